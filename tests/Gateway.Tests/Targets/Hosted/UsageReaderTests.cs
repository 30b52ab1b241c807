using System.Text;
using Gateway.Spend;
using Gateway.Targets.Hosted;

namespace Gateway.Tests.Targets.Hosted;

public sealed class UsageReaderTests
{
    private static (bool Found, Usage? Usage, bool ChoicesEmpty) Read(string json)
    {
        var found = UsageReader.TryRead(Encoding.UTF8.GetBytes(json), out var usage, out var empty);
        return (found, usage, empty);
    }

    [Fact]
    public void ReadsUsageAfterALargeBody()
    {
        var result = Read("""{"id":"x","choices":[{"message":{"content":"a","tool_calls":[{"function":{"arguments":"{}"}}]}}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":2,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":1}}}""");
        Assert.True(result.Found);
        Assert.Equal(new Usage(9, 4, 2), result.Usage);
        Assert.False(result.ChoicesEmpty);
    }

    [Fact]
    public void ReadsResponsesApiStyleNames()
    {
        Assert.Equal(new Usage(3, 5), Read("""{"usage":{"input_tokens":3,"output_tokens":5}}""").Usage);
    }

    [Theory]
    [InlineData("""{"usage":null}""")]
    [InlineData("""{"id":"x"}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"usage":{"prompt_tokens":""")]
    [InlineData("not json")]
    public void NoUsage_ReturnsFalse(string json) => Assert.False(Read(json).Found);

    [Fact]
    public void EmptyChoices_IsReported()
    {
        var result = Read("""{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}""");
        Assert.True(result.ChoicesEmpty);
    }
    [Fact]
    public void ReadsTheUsageOfAResponsesStreamEvent_WithCachedTokens()
    {
        var result = Read("""{"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"hi"}]}],"usage":{"input_tokens":1000,"input_tokens_details":{"cached_tokens":100},"output_tokens":250,"output_tokens_details":{"reasoning_tokens":50},"total_tokens":1250}}}""");
        Assert.True(result.Found);
        Assert.Equal(new Usage(1000, 250, 100), result.Usage);
    }

    [Fact]
    public void AnInProgressResponsesEvent_HasNoUsage() =>
        Assert.False(Read("""{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress","usage":null}}""").Found);

    [Theory]
    [InlineData("""{"id":"resp_1","object":"response","status":"completed"}""", "resp_1")]
    [InlineData("""{"object":"response","id":"resp_2"}""", "resp_2")]
    [InlineData("""{"type":"response.created","sequence_number":0,"response":{"id":"resp_3","object":"response"}}""", "resp_3")]
    [InlineData("""{"id":"chatcmpl-1","object":"chat.completion"}""", null)]
    [InlineData("""{"type":"response.output_text.delta","item_id":"msg_1","delta":"x"}""", null)]
    [InlineData("""not json""", null)]
    public void ReadsTheResponseId_OfResponsesObjectsAndEventsOnly(string json, string? id) =>
        Assert.Equal(id, UsageReader.ReadResponseId(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void ResponsesEvents_CountOnlyTheirDeltas_WhileBodiesCountTheirOutputText()
    {
        var text = new StringBuilder();
        foreach (var json in new[]
                 {
                     """{"type":"response.created","response":{"id":"r","instructions":"Be brief.","output":[]}}""",
                     """{"type":"response.output_text.delta","item_id":"m","delta":"Hello "}""",
                     """{"type":"response.function_call_arguments.delta","item_id":"f","delta":"{\"a\":1}"}""",
                     """{"type":"response.output_text.done","item_id":"m","text":"Hello "}""",
                     """{"type":"response.completed","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"Hello "}]}]}}""",
                 })
        {
            UsageReader.AppendCompletionText(Encoding.UTF8.GetBytes(json), text);
        }

        Assert.Equal("Hello {\"a\":1}", text.ToString());

        var body = new StringBuilder();
        UsageReader.AppendCompletionText("""{"id":"r","object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"An answer."}]},{"type":"function_call","name":"f","arguments":"{}"}],"text":{"format":{"type":"text"}}}"""u8, body);
        Assert.Equal("An answer.{}", body.ToString());
    }
}
