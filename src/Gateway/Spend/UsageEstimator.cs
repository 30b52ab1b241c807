using Gateway.OpenAi;
using Microsoft.ML.Tokenizers;

namespace Gateway.Spend;

/// <summary>
/// Counts tokens when a route served a request but did not report usage, so a priced request is
/// never recorded at $0: the prompt from the request, the completion from the generated text, with
/// the o200k_base encoding (GPT-4o's; other providers' tokenizers differ by a few percent). The
/// result is flagged <see cref="Usage.Estimated"/> in the ledger and counted in metrics.
/// </summary>
public sealed class UsageEstimator
{
    // OpenAI's accounting for chat: a few tokens of framing per message and for the reply's priming.
    private const int PerMessage = 3;
    private const int ReplyPriming = 3;

    private readonly Lazy<Tokenizer> _tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    public Usage Estimate(Conversation conversation, string? completion)
    {
        var prompt = 0;
        foreach (var turn in conversation.Turns)
        {
            foreach (var text in MessageContent.TextParts(turn.Content))
            {
                prompt += Count(text.GetString()!);
            }
        }

        if (!conversation.IsPrompt && conversation.Turns.Count > 0)
        {
            prompt += PerMessage * conversation.Turns.Count + ReplyPriming;
        }

        return new Usage(prompt, string.IsNullOrEmpty(completion) ? 0 : Count(completion), Estimated: true);
    }

    public int Count(string text) => _tokenizer.Value.CountTokens(text);
}
