using System.Text.Json;
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

    public Usage Estimate(JsonElement request, string? completion)
    {
        var prompt = 0;
        if (request.ValueKind == JsonValueKind.Object)
        {
            if (request.TryGetProperty("messages"u8, out var messages) && messages.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in messages.EnumerateArray())
                {
                    prompt += PerMessage + (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content"u8, out var content) ? Count(content) : 0);
                }

                prompt += ReplyPriming;
            }
            else if (request.TryGetProperty("prompt"u8, out var text) || request.TryGetProperty("input"u8, out text))
            {
                prompt += Count(text);
            }
        }

        return new Usage(prompt, string.IsNullOrEmpty(completion) ? 0 : Count(completion), Estimated: true);
    }

    public int Count(string text) => _tokenizer.Value.CountTokens(text);

    private int Count(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Count(value.GetString()!),
        JsonValueKind.Array => value.EnumerateArray().Sum(part => part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text"u8, out var text) ? Count(text) : Count(part)),
        _ => 0,
    };
}
