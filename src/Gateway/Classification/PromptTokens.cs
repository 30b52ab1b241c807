namespace Gateway.Classification;

/// <summary>
/// The WordPiece token ids (MiniLM's vocabulary) of the last user turn that the classifier's token
/// table is read with: <c>[CLS]</c>, up to <see cref="MaxHeadTokens"/> tokens of the text's start and
/// <see cref="MaxTailTokens"/> of its end (instructions sit at either end of a long prompt), <c>[SEP]</c>.
/// The text handed to the tokenizer is bounded too, so a megabyte prompt costs what a 2 KB one does.
/// </summary>
internal static class PromptTokens
{
    public const int MaxHeadTokens = 256;
    public const int MaxTailTokens = 64;
    public const int MaxTokens = MaxHeadTokens + MaxTailTokens + 2;

    // WordPiece tokens average ~4 chars of English; 6 per token leaves room without tokenizing megabytes.
    internal const int HeadChars = MaxHeadTokens * 6;
    internal const int TailChars = MaxTailTokens * 6;

    public static int Encode(FastBertTokenizer.BertTokenizer tokenizer, ReadOnlySpan<char> text, Span<long> ids)
    {
        // The library writes [CLS] … [SEP], and an attention mask as long as that. A WordPiece token covers at least
        // one char, so the tail's buffer holds all of its tokens (a longer output would be truncated, not overrun).
        Span<long> mask = stackalloc long[TailChars + 2];
        var head = text.Length > HeadChars + TailChars ? text[..HeadChars] : text;
        var n = tokenizer.Encode(AccentFolding.Fold(head), ids[..(MaxHeadTokens + 2)], mask);
        var separator = ids[--n];
        if (head.Length < text.Length)
        {
            // The tail's last tokens: the end of the prompt is where "summarise the above" sits.
            Span<long> tail = stackalloc long[TailChars + 2];
            var end = tokenizer.Encode(AccentFolding.Fold(text[^TailChars..]), tail, mask) - 1;
            var from = Math.Max(1, end - MaxTailTokens);
            tail[from..end].CopyTo(ids[n..]);
            n += end - from;
        }

        ids[n++] = separator;
        return n;
    }
}
