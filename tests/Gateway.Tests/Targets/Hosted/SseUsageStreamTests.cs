using System.Text;
using Gateway.Targets.Hosted;

namespace Gateway.Tests.Targets.Hosted;

public sealed class SseUsageStreamTests
{
    private const string Chunk1 = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n";
    private const string Chunk2 = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
    private const string UsageChunk = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n";
    private const string Done = "data: [DONE]\n\n";

    /// <summary>A source that hands out its bytes in reads of a fixed size, like a network would.</summary>
    private sealed class TricklingStream(byte[] data, int readSize) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(readSize, buffer.Length)], cancellationToken);
    }

    private static async Task<(string Output, UsageCapture Capture)> RunAsync(string input, bool drop, int readSize)
    {
        var capture = new UsageCapture();
        await using var stream = new SseUsageStream(new TricklingStream(Encoding.UTF8.GetBytes(input), readSize), drop, capture, TimeProvider.System);
        using var reader = new StreamReader(stream);
        return (await reader.ReadToEndAsync(), capture);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(100_000)]
    public async Task DropUsageChunk_RemovesOnlyTheUsageChunk_AtAnyReadBoundary(int readSize)
    {
        var (output, capture) = await RunAsync(Chunk1 + Chunk2 + UsageChunk + Done, drop: true, readSize);

        Assert.Equal(Chunk1 + Chunk2 + Done, output);
        Assert.Equal(new Gateway.Spend.Usage(12, 3, 4), capture.Usage);
        Assert.NotNull(capture.FirstByteTimestamp);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    public async Task KeepUsageChunk_PassesEveryByteThrough(int readSize)
    {
        const string input = Chunk1 + Chunk2 + UsageChunk + Done;
        var (output, capture) = await RunAsync(input, drop: false, readSize);

        Assert.Equal(input, output);
        Assert.Equal(12, capture.Usage!.PromptTokens);
    }

    [Fact]
    public async Task CrLfEventsAndCommentsPassThroughAndUsageIsStillFound()
    {
        var input = ": keep-alive\r\n\r\n" + Chunk1.Replace("\n", "\r\n", StringComparison.Ordinal)
                    + UsageChunk.Replace("\n", "\r\n", StringComparison.Ordinal) + "data: [DONE]\r\n\r\n";
        var (output, capture) = await RunAsync(input, drop: true, readSize: 5);

        Assert.Equal(": keep-alive\r\n\r\n" + Chunk1.Replace("\n", "\r\n", StringComparison.Ordinal) + "data: [DONE]\r\n\r\n", output);
        Assert.Equal(3, capture.Usage!.CompletionTokens);
    }

    [Fact]
    public async Task UsageInsideAChunkWithChoices_IsReadButNotDropped()
    {
        // Some providers attach usage to the final content chunk instead of a separate one.
        const string last = "data: {\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n";
        var (output, capture) = await RunAsync(Chunk1 + last + Done, drop: true, readSize: 9);

        Assert.Equal(Chunk1 + last + Done, output);
        Assert.Equal(new Gateway.Spend.Usage(5, 2), capture.Usage);
    }

    [Fact]
    public async Task TruncatedStream_HandsOnTheTrailingPartialEvent()
    {
        var (output, capture) = await RunAsync(Chunk1 + "data: {\"partial", drop: true, readSize: 8);
        Assert.Equal(Chunk1 + "data: {\"partial", output);
        Assert.Null(capture.Usage);
    }

    [Fact]
    public async Task LargeEvent_BiggerThanTheInitialBuffer_PassesIntact()
    {
        var big = "data: {\"choices\":[{\"delta\":{\"content\":\"" + new string('x', 50_000) + "\"}}]}\n\n";
        var (output, _) = await RunAsync(big + UsageChunk + Done, drop: true, readSize: 3000);
        Assert.Equal(big + Done, output);
    }
}
