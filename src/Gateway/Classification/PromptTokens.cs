using Microsoft.ML.Tokenizers;

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
    private const int HeadChars = MaxHeadTokens * 6;
    private const int TailChars = MaxTailTokens * 6;

    public static int Encode(BertTokenizer tokenizer, ReadOnlySpan<char> text, Span<long> ids)
    {
        var n = 0;
        ids[n++] = tokenizer.ClassificationTokenId;
        var head = text.Length > HeadChars + TailChars ? text[..HeadChars] : text;
        var tokens = tokenizer.EncodeToIds(head, MaxHeadTokens, addSpecialTokens: false, out _, out _);
        n = Append(tokens, 0, ids, n);
        if (head.Length < text.Length)
        {
            // The tail's last tokens: the end of the prompt is where "summarise the above" sits.
            tokens = tokenizer.EncodeToIds(text[^TailChars..], addSpecialTokens: false);
            n = Append(tokens, Math.Max(0, tokens.Count - MaxTailTokens), ids, n);
        }

        ids[n++] = tokenizer.SeparatorTokenId;
        return n;
    }

    private static int Append(IReadOnlyList<int> tokens, int from, Span<long> ids, int n)
    {
        for (var i = from; i < tokens.Count; i++)
        {
            ids[n++] = tokens[i];
        }

        return n;
    }
}
