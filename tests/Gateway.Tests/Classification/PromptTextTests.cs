using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Classification;
using Gateway.OpenAi;

namespace Gateway.Tests.Classification;

public sealed class PromptTextTests
{
    private static PromptText Load(string json)
    {
        using var document = JsonDocument.Parse(json);
        var text = new PromptText();
        text.Load(Conversation.Read(document.RootElement));
        return text;
    }

    [Fact]
    public void Load_MultiTurn_ReadsLastUserTurnAndKeepsRecentHistoryAsContext()
    {
        var text = Load("""
            {"messages":[
              {"role":"system","content":"You are terse."},
              {"role":"user","content":"first question"},
              {"role":"assistant","content":"first answer"},
              {"role":"user","content":"second question"},
              {"role":"assistant","content":"second answer"},
              {"role":"user","content":"the last one"}]}
            """);

        Assert.Equal("the last one", text.LastUser.ToString());
        Assert.Equal(6, text.Turns);
        Assert.True(text.HasSystem);
        Assert.Equal(3, text.ContextCount);
        Assert.Equal("You are terse.", text.Context(0).ToString());
        Assert.Equal("second question", text.Context(1).ToString());
        Assert.Equal("second answer", text.Context(2).ToString());
    }

    [Fact]
    public void Load_ContentParts_JoinsTextPartsAndSkipsImages()
    {
        var text = Load("""
            {"messages":[{"role":"user","content":[
              {"type":"text","text":"describe"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
              {"type":"text","text":"this picture"}]}]}
            """);

        Assert.Equal("describe\nthis picture", text.LastUser.ToString());
    }

    [Fact]
    public void Load_EscapedAndNonAsciiText_IsUnescaped()
    {
        var text = Load("""{"messages":[{"role":"user","content":"caf\u00e9 \"quoted\"\n日本語 🙂"}]}""");

        Assert.Equal("café \"quoted\"\n日本語 🙂", text.LastUser.ToString());
    }

    [Fact]
    public void Load_VeryLongPrompt_KeepsHeadAndTailDeterministically()
    {
        var prompt = new string('a', 10_000) + "TAIL";
        var text = Load(JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "HEAD" + prompt } } }));

        Assert.Equal(PromptText.HeadChars + 1 + PromptText.TailChars, text.LastUser.Length);
        Assert.StartsWith("HEAD", text.LastUser.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("TAIL", text.LastUser.ToString(), StringComparison.Ordinal);
        Assert.Equal(10_008, text.LastUserOriginalLength);
    }

    [Theory]
    [InlineData("""{"prompt":"complete this"}""", "complete this")]
    [InlineData("""{"prompt":["first prompt","second"]}""", "first prompt")]
    [InlineData("""{"messages":[]}""", "")]
    [InlineData("""{"messages":[{"role":"assistant","content":"only the assistant"}]}""", "")]
    [InlineData("""{"messages":[{"role":"user","content":null}]}""", "")]
    [InlineData("""{"messages":[{"role":"user"}]}""", "")]
    [InlineData("""{"messages":[42, "x", {"role":"user","content":""}]}""", "")]
    [InlineData("""{"model":"auto"}""", "")]
    [InlineData("""[1,2,3]""", "")]
    public void Load_AnyShape_NeverThrows(string json, string expectedLastUser)
    {
        Assert.Equal(expectedLastUser, Load(json).LastUser.ToString());
    }

    [Fact]
    public void Load_Reused_ForgetsThePreviousConversation()
    {
        var text = new PromptText();
        using (var first = JsonDocument.Parse("""{"messages":[{"role":"system","content":"sys"},{"role":"user","content":"one"}]}"""))
        {
            text.Load(Conversation.Read(first.RootElement));
        }

        using var second = JsonDocument.Parse("""{"prompt":"two"}""");
        text.Load(Conversation.Read(second.RootElement));

        Assert.Equal("two", text.LastUser.ToString());
        Assert.False(text.HasSystem);
        Assert.Equal(0, text.ContextCount);
    }
    /// <summary>
    /// Long prompts are read without decoding their middle; what is kept must be what decoding all of it and cutting
    /// would keep: the same head and tail chars (a surrogate pair split where the cut falls), the same original length,
    /// for escaped and raw UTF-8 strings and for text parts joined by newlines.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Load_KeepsWhatDecodingEverythingAndCuttingWouldKeep(int seed)
    {
        var random = new Random(seed);
        string[] pieces = ["a", "b ", "é", "日本", "🙂", "\n", "\"", "\\", "\u0001", "x🙂y"];
        int[] lengths = [0, 1, 7, 500, 511, 512, 513, 4090, 4095, 4096, 4097, 4100, 6000, 20_000, 300_000];
        string Text()
        {
            var target = lengths[random.Next(lengths.Length)] + random.Next(3);
            var builder = new System.Text.StringBuilder();
            while (builder.Length < target)
            {
                builder.Append(pieces[random.Next(pieces.Length)]);
            }

            return builder.ToString();
        }

        JsonSerializerOptions[] encodings = [new() { Encoder = JavaScriptEncoder.Default }, new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }];
        var text = new PromptText(); // reused, as per thread in the product
        for (var i = 0; i < 150; i++)
        {
            object Content(out string joined)
            {
                if (random.Next(3) > 0)
                {
                    joined = Text();
                    return joined;
                }

                var parts = Enumerable.Range(0, random.Next(1, 5)).Select(_ => Text()).ToArray();
                joined = string.Join("\n", parts.SkipWhile(p => p.Length == 0)); // a newline before every part after the first non-empty one
                return parts.Select(p => (object)new { type = "text", text = p }).Append(new { type = "image_url", image_url = new { url = "data:," } }).ToArray();
            }

            var system = Content(out var systemJoined);
            var last = Content(out var lastJoined);
            var json = JsonSerializer.Serialize(new
            {
                messages = new object[] { new { role = "system", content = system }, new { role = "user", content = last } },
            }, encodings[random.Next(2)]);
            using var document = JsonDocument.Parse(json);
            text.Load(Conversation.Read(document.RootElement));

            static string Cut(string s, int head, int tail) => s.Length > head + tail ? s[..head] + "\n" + s[^tail..] : s;
            Assert.Equal(Cut(lastJoined, PromptText.HeadChars, PromptText.TailChars), text.LastUser.ToString());
            Assert.Equal(lastJoined.Length, text.LastUserOriginalLength);
            Assert.Equal(Cut(systemJoined, PromptText.MaxContextChars, 0), text.Context(0).ToString());
        }
    }
}
