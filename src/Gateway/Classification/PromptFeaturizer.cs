namespace Gateway.Classification;

/// <summary>
/// Turns a <see cref="PromptText"/> into a sparse feature vector: hashed character trigrams and
/// word uni/bigrams of the last user turn, hashed words of the context, and a few structural
/// signals (length, turns, code fences, digits, script). The training CLI and the gateway run this
/// same code, so a model can only be served by the featurizer it was trained with; the model's
/// metadata names it (<see cref="Name"/>, <see cref="Buckets"/>) and the loader checks both.
/// </summary>
/// <remarks>
/// Each family's values are scaled by 1/sqrt(its feature count) so a long prompt does not drown
/// the structural features. Repeated indices are then merged (their values summed): the graph is
/// linear in the values, so the result is the same, and every index merged is one fewer row the
/// ONNX Gather reads from a table too big for the cache. Allocation-free; writes into caller buffers.
/// </remarks>
internal static class PromptFeaturizer
{
    public const string Name = "hashed-ngrams-v1";
    public const int Buckets = 1 << 16;

    /// <summary>Upper bound of features for any input <see cref="PromptText"/> can hold.</summary>
    public const int MaxFeatures =
        3 * (PromptText.HeadChars + PromptText.TailChars + 2) // trigrams (1 per char), words + bigrams + symbols (≤ 2 per char)
        + (PromptText.MaxContextTurns + 1) * (PromptText.MaxContextChars + 2) // context words and symbols (≤ 1 per char)
        + 16; // structure

    private const float ContextWeight = 0.5f;

    private const uint TrigramSeed = 0x9E3779B1;
    private const uint WordSeed = 0x85EBCA77;
    private const uint BigramSeed = 0xC2B2AE3D;
    private const uint ContextSeed = 0x27D4EB2F;
    private const uint StructureSeed = 0x165667B1;

    public static int Featurize(PromptText text, Span<long> indices, Span<float> values)
    {
        var n = 0;
        var user = text.LastUser;

        var start = n;
        n = Trigrams(user, indices, n);
        Scale(values, start, n, 1f);

        start = n;
        n = Words(user, indices, n, WordSeed, bigrams: true);
        Scale(values, start, n, 1f);

        start = n;
        for (var i = 0; i < text.ContextCount; i++)
        {
            n = Words(text.Context(i), indices, n, ContextSeed, bigrams: false);
        }

        Scale(values, start, n, ContextWeight);

        start = n;
        n = Structure(text, indices, n);
        values[start..n].Fill(1f);
        return Merge(indices, values, n);
    }

    [ThreadStatic] private static MergeTable? t_merge;

    /// <summary>Sums the values of repeated indices in place, keeping first-occurrence order (so runs are reproducible).</summary>
    private static int Merge(Span<long> indices, Span<float> values, int n)
    {
        var table = t_merge ??= new MergeTable();
        var generation = table.Next();
        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            var index = indices[i];
            var slot = (int)index & MergeTable.Mask;
            while (true)
            {
                if (table.Stamps[slot] != generation)
                {
                    table.Stamps[slot] = generation;
                    table.Positions[slot] = kept;
                    indices[kept] = index;
                    values[kept] = values[i];
                    kept++;
                    break;
                }

                if (indices[table.Positions[slot]] == index)
                {
                    values[table.Positions[slot]] += values[i];
                    break;
                }

                slot = (slot + 1) & MergeTable.Mask;
            }
        }

        return kept;
    }

    /// <summary>Open addressing over the bucket index; a generation stamp makes clearing free.</summary>
    private sealed class MergeTable
    {
        public const int Size = 1 << 15; // ≥ 2 × MaxFeatures: probes stay short
        public const int Mask = Size - 1;
        public readonly int[] Stamps = new int[Size];
        public readonly int[] Positions = new int[Size];
        private int _generation;

        public int Next()
        {
            if (++_generation == int.MaxValue)
            {
                Array.Clear(Stamps);
                _generation = 1;
            }

            return _generation;
        }
    }

    private static void Scale(Span<float> values, int start, int end, float weight)
    {
        if (end > start)
        {
            values[start..end].Fill(weight / MathF.Sqrt(end - start));
        }
    }

    /// <summary>Lower-cases, maps digits to 0 (numbers generalise by shape) and folds whitespace to a space.</summary>
    private static char Normalize(char c)
    {
        if (c < 128)
        {
            // ASCII fast path, same results as the general one below.
            return c switch
            {
                >= 'A' and <= 'Z' => (char)(c | 0x20),
                >= '0' and <= '9' => '0',
                ' ' or '\t' or '\n' or '\r' or '\v' or '\f' => ' ',
                _ => c,
            };
        }

        return char.IsWhiteSpace(c) ? ' ' : char.ToLowerInvariant(c);
    }

    private static bool IsWordChar(char c) => c < 128 ? char.IsAsciiLetterOrDigit(c) : char.IsLetterOrDigit(c);

    private static int Trigrams(ReadOnlySpan<char> text, Span<long> indices, int n)
    {
        char a = ' ', b = ' ';
        foreach (var raw in text)
        {
            var c = Normalize(raw);
            if (c == ' ' && b == ' ')
            {
                continue;
            }

            indices[n++] = Bucket(Mix(Mix(Mix(TrigramSeed, a), b), c));
            a = b;
            b = c;
        }

        if (b != ' ')
        {
            indices[n++] = Bucket(Mix(Mix(Mix(TrigramSeed, a), b), ' '));
        }

        return n;
    }

    private static int Words(ReadOnlySpan<char> text, Span<long> indices, int n, uint seed, bool bigrams)
    {
        var hash = seed;
        var inWord = false;
        var previous = 0u;
        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? Normalize(text[i]) : ' ';
            if (IsWordChar(c))
            {
                hash = Mix(hash, c);
                inWord = true;
                continue;
            }

            if (inWord)
            {
                indices[n++] = Bucket(hash);
                if (bigrams && previous != 0)
                {
                    indices[n++] = Bucket(Mix(Mix(BigramSeed, previous), hash));
                }

                previous = hash;
                hash = seed;
                inWord = false;
            }

            // Symbols are words of their own: `{`, `=`, `$`, `?` say a lot about code, maths and questions.
            if (c != ' ' && !IsWordChar(c))
            {
                indices[n++] = Bucket(Mix(seed, c));
            }
        }

        return n;
    }

    private static int Structure(PromptText text, Span<long> indices, int n)
    {
        var user = text.LastUser;
        var (digits, nonAscii, newlines) = Count(user);

        var length = text.LastUserOriginalLength;
        indices[n++] = Signal(0, 0); // bias: every prompt has at least one feature
        indices[n++] = Signal(1, Math.Min(14, 32 - int.LeadingZeroCount(length)));
        indices[n++] = Signal(2, text.Turns switch { <= 1 => 0, 2 => 1, <= 4 => 2, _ => 3 });
        indices[n++] = Signal(3, text.HasSystem ? 1 : 0);
        indices[n++] = Signal(4, user.Contains("```", StringComparison.Ordinal) ? 1 : 0);
        indices[n++] = Signal(5, Ratio(digits, user.Length) switch { 0 => 0, < 0.05f => 1, < 0.15f => 2, _ => 3 });
        indices[n++] = Signal(6, Ratio(nonAscii, user.Length) switch { 0 => 0, < 0.3f => 1, _ => 2 });
        indices[n++] = Signal(7, newlines switch { 0 => 0, <= 3 => 1, <= 10 => 2, _ => 3 });
        indices[n++] = Signal(8, user.TrimEnd().EndsWith('?') ? 1 : 0);
        return n;
    }

    /// <summary>Dense structural signals, the same facts as the hashed ones, for heads that read a fixed-width vector.</summary>
    public const int SignalCount = 26;

    public static void Signals(PromptText text, Span<float> signals)
    {
        signals[..SignalCount].Clear();
        var user = text.LastUser;
        var (digits, nonAscii, newlines) = Count(user);

        signals[Math.Min(14, 32 - int.LeadingZeroCount(text.LastUserOriginalLength))] = 1; // 0-14: log2 length, one-hot
        signals[15 + (text.Turns switch { <= 1 => 0, 2 => 1, <= 4 => 2, _ => 3 })] = 1; // 15-18: turns
        signals[19] = text.HasSystem ? 1 : 0;
        signals[20] = user.Contains("```", StringComparison.Ordinal) ? 1 : 0;
        signals[21] = Math.Min(1f, 4 * Ratio(digits, user.Length));
        signals[22] = Ratio(nonAscii, user.Length);
        signals[23] = user.TrimEnd().EndsWith('?') ? 1 : 0;
        signals[24] = MathF.Log2(1 + newlines) / 5;
        signals[25] = MathF.Log2(1 + text.LastUserOriginalLength) / 14; // 25: length, continuous
    }

    private static (int Digits, int NonAscii, int Newlines) Count(ReadOnlySpan<char> user)
    {
        int digits = 0, nonAscii = 0, newlines = 0;
        foreach (var c in user)
        {
            digits += char.IsAsciiDigit(c) ? 1 : 0;
            nonAscii += c > 127 && char.IsLetter(c) ? 1 : 0;
            newlines += c == '\n' ? 1 : 0;
        }

        return (digits, nonAscii, newlines);
    }

    private static float Ratio(int part, int whole) => whole == 0 ? 0 : (float)part / whole;

    private static long Signal(uint signal, int value) => Bucket(Mix(Mix(StructureSeed, signal), (uint)value));

    // FNV-1a step per character; the finaliser (murmur3 fmix32) spreads the bits before masking.
    private static uint Mix(uint hash, uint value) => (hash ^ value) * 16777619u;

    private static long Bucket(uint hash)
    {
        hash ^= hash >> 16;
        hash *= 0x85EBCA6B;
        hash ^= hash >> 13;
        hash *= 0xC2B2AE35;
        hash ^= hash >> 16;
        return hash & (Buckets - 1);
    }
}
