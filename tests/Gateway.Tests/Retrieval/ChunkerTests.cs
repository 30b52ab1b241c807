using Gateway.Retrieval;

namespace Gateway.Tests.Retrieval;

public sealed class ChunkerTests
{
    private static int Words(string word) => 1;

    [Fact]
    public void Split_ShortText_IsOneChunk()
    {
        Assert.Equal(["one two three."], Chunker.Split("one  two\nthree.", Words));
    }

    [Fact]
    public void Split_LongText_ChunksWithinTheBudgetAndOverlap()
    {
        var words = Enumerable.Range(0, 1000).Select(i => $"w{i}").ToArray();

        var chunks = Chunker.Split(string.Join(' ', words), Words);

        Assert.All(chunks, c => Assert.InRange(c.Split(' ').Length, 1, Chunker.ChunkTokens));
        for (var i = 1; i < chunks.Count; i++)
        {
            var previous = chunks[i - 1].Split(' ');
            var current = chunks[i].Split(' ');
            Assert.Equal(previous[^Chunker.OverlapTokens..], current[..Chunker.OverlapTokens]);
        }

        Assert.Equal("w999", chunks[^1].Split(' ')[^1]);
    }

    [Fact]
    public void Split_PrefersToEndAtASentence()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 150)) + " end. " + string.Join(' ', Enumerable.Repeat("more", 100));

        Assert.EndsWith("end.", Chunker.Split(text, Words)[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Split_EmptyText_HasNoChunks() => Assert.Empty(Chunker.Split("  \n ", Words));
}
