namespace Gateway.Classification;

/// <summary>
/// Strips accents as BERT's uncased tokenizer does before WordPiece (Unicode NFD, then every nonspacing mark dropped:
/// <c>Crème</c> → <c>Creme</c>, <c>й</c> → <c>и</c>, a combining acute → nothing), from a table generated once
/// (<c>accent-folding.py</c> → <c>AccentFolding.Table.cs</c>): under the gateway's invariant globalization .NET cannot
/// decompose characters, and the tokenizer would read every accented word as <c>[UNK]</c>. Characters that decompose
/// into several (Hangul syllables into jamo) are left as they are.
/// </summary>
internal static partial class AccentFolding
{
    /// <summary>The text with accents stripped; the same string content when there are none.</summary>
    public static string Fold(ReadOnlySpan<char> text)
    {
        var i = 0;
        while (i < text.Length && Find(text[i]) < 0)
        {
            i++;
        }

        if (i == text.Length)
        {
            return text.ToString();
        }

        Span<char> folded = text.Length <= 4096 ? stackalloc char[text.Length] : new char[text.Length];
        text[..i].CopyTo(folded);
        var n = i;
        for (; i < text.Length; i++)
        {
            var at = Find(text[i]);
            if (at < 0)
            {
                folded[n++] = text[i];
            }
            else if (Targets[at] != '\0')
            {
                folded[n++] = Targets[at];
            }
        }

        return new string(folded[..n]);
    }

    // One bit per BMP character (8 KB): most text, CJK included, is answered without the search.
    private static readonly ulong[] Foldable = BuildBitmap();

    private static int Find(char c) => (Foldable[c >> 6] & (1UL << (c & 63))) == 0 ? -1 : Sources.AsSpan().BinarySearch(c);

    private static ulong[] BuildBitmap()
    {
        var bits = new ulong[(char.MaxValue + 1) / 64];
        foreach (var c in Sources)
        {
            bits[c >> 6] |= 1UL << (c & 63);
        }

        return bits;
    }
}
