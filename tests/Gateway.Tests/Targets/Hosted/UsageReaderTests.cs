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
}
