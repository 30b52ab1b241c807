using Gateway.Classification;

namespace Gateway.Tests.Classification;

public sealed class PromptTokensTests
{
    private static readonly Microsoft.ML.Tokenizers.BertTokenizer Tokenizer = MiniLm.CreateTokenizer();

    private static long[] Encode(string text)
    {
        var ids = new long[PromptTokens.MaxTokens];
        return ids[..PromptTokens.Encode(Tokenizer, text, ids)];
    }

    [Fact]
    public void Encode_ShortText_IsClsTokensSep()
    {
        var ids = Encode("Hello world");

        Assert.Equal(Tokenizer.ClassificationTokenId, ids[0]);
        Assert.Equal(Tokenizer.SeparatorTokenId, ids[^1]);
        Assert.Equal(4, ids.Length);
    }

    [Fact]
    public void Encode_Empty_IsStillTwoTokens()
    {
        Assert.Equal([Tokenizer.ClassificationTokenId, Tokenizer.SeparatorTokenId], Encode(""));
    }

    [Fact]
    public void Encode_MegabyteText_IsBoundedAndKeepsTheTail()
    {
        var text = string.Concat(Enumerable.Repeat("lorem ipsum dolor sit amet ", 40_000)) + "please summarise";

        var ids = Encode(text);

        Assert.InRange(ids.Length, PromptTokens.MaxHeadTokens, PromptTokens.MaxTokens);
        var tail = Encode("please summarise");
        Assert.Equal(tail[1..^1], ids[^(tail.Length - 1)..^1]);
    }

    [Theory]
    [InlineData("日本の首都はどこですか？")]
    [InlineData("Какая столица России?")]
    [InlineData("🙂🙂🙂")]
    [InlineData("\u0000\u0001")]
    public void Encode_AnyScript_GivesIdsInsideTheVocabulary(string text)
    {
        var size = MiniLm.ReadVocabularySize();

        Assert.All(Encode(text), id => Assert.InRange(id, 0, size - 1));
    }
}
