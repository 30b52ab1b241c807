namespace Gateway.Retrieval;

/// <summary>
/// Splits a document into overlapping chunks of about <see cref="ChunkTokens"/> embedding tokens,
/// on word boundaries, preferring to end a chunk at a paragraph or sentence end. Overlap keeps an
/// answer that straddles a boundary retrievable from either side.
/// </summary>
public static class Chunker
{
    public const int ChunkTokens = 200;
    public const int OverlapTokens = 40;

    public static IReadOnlyList<string> Split(string text, Func<string, int> countTokens)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return [];
        }

        var costs = words.Select(w => Math.Max(1, countTokens(w))).ToArray();
        var chunks = new List<string>();
        var start = 0;
        while (start < words.Length)
        {
            var end = start;
            var tokens = 0;
            var lastSentenceEnd = -1;
            while (end < words.Length && tokens + costs[end] <= ChunkTokens)
            {
                tokens += costs[end];
                if (words[end].EndsWith('.') || words[end].EndsWith('?') || words[end].EndsWith('!') || words[end].EndsWith(':'))
                {
                    lastSentenceEnd = end;
                }

                end++;
            }

            if (end == start)
            {
                end = start + 1; // a single word longer than a chunk
            }
            else if (end < words.Length && lastSentenceEnd > start + ((end - start) / 2))
            {
                end = lastSentenceEnd + 1; // end at a sentence when one is past the middle
            }

            chunks.Add(string.Join(' ', words[start..end]));
            if (end >= words.Length)
            {
                break;
            }

            // Step back about OverlapTokens, but always move forward.
            var back = end;
            var overlap = 0;
            while (back > start + 1 && overlap + costs[back - 1] <= OverlapTokens)
            {
                back--;
                overlap += costs[back];
            }

            start = back;
        }

        return chunks;
    }
}
