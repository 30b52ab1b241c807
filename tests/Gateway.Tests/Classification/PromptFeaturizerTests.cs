using System.Text.Json;
using Gateway.Classification;
using Gateway.OpenAi;

namespace Gateway.Tests.Classification;

public sealed class PromptFeaturizerTests
{
    private static (long[] Indices, float[] Values) Featurize(string userText, string? system = null)
    {
        var messages = new List<object>();
        if (system is not null)
        {
            messages.Add(new { role = "system", content = system });
        }

        messages.Add(new { role = "user", content = userText });
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(new { messages }));
        var text = new PromptText();
        text.Load(Conversation.Read(document.RootElement));
        var indices = new long[PromptFeaturizer.MaxFeatures];
        var values = new float[PromptFeaturizer.MaxFeatures];
        var n = PromptFeaturizer.Featurize(text, indices, values);
        return (indices[..n], values[..n]);
    }

    [Fact]
    public void Featurize_SameText_SameFeatures()
    {
        var a = Featurize("Write a Python function that parses CSV.");
        var b = Featurize("Write a Python function that parses CSV.");

        Assert.Equal(a.Indices, b.Indices);
        Assert.Equal(a.Values, b.Values);
    }

    [Fact]
    public void Featurize_CaseWhitespaceAndDigits_AreNormalised()
    {
        Assert.Equal(Featurize("What is 17  times 42?").Indices, Featurize("what is 93 TIMES 15?").Indices);
    }

    [Fact]
    public void Featurize_EmptyPrompt_StillHasStructuralFeatures()
    {
        var (indices, values) = Featurize("");

        Assert.NotEmpty(indices);
        Assert.All(values, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Featurize_SystemPrompt_ChangesFeatures()
    {
        Assert.NotEqual(Featurize("hello").Indices, Featurize("hello", system: "You are a pirate.").Indices);
    }

    [Theory]
    [InlineData('a')]
    [InlineData('{')]
    [InlineData(' ')]
    [InlineData('語')]
    public void Featurize_HugeInputOfAnyCharacter_StaysWithinBoundsAndBuckets(char c)
    {
        var (indices, values) = Featurize(string.Join(' ', Enumerable.Repeat(new string(c, 3), 100_000)) + new string(c, 200_000));

        Assert.InRange(indices.Length, 1, PromptFeaturizer.MaxFeatures);
        Assert.All(indices, i => Assert.InRange(i, 0, PromptFeaturizer.Buckets - 1));
        Assert.All(values, v => Assert.True(float.IsFinite(v) && v > 0));
    }
}
