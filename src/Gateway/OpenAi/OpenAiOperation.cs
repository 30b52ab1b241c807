namespace Gateway.OpenAi;

/// <summary>The OpenAI endpoints the gateway serves with a request body.</summary>
public enum OpenAiOperation
{
    ChatCompletions,
    Completions,
    Embeddings,

    /// <summary>The Responses API (<c>POST /v1/responses</c>).</summary>
    Responses,
}

public static class OpenAiOperationExtensions
{
    /// <summary>The path below the provider's base URL (which, by convention, ends in <c>/v1</c>).</summary>
    public static string UpstreamPath(this OpenAiOperation operation) => operation switch
    {
        OpenAiOperation.ChatCompletions => "/chat/completions",
        OpenAiOperation.Completions => "/completions",
        OpenAiOperation.Embeddings => "/embeddings",
        OpenAiOperation.Responses => "/responses",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>The name kept on ledger rows and in the <c>operation</c> metric label.</summary>
    public static string LedgerName(this OpenAiOperation operation) => operation switch
    {
        OpenAiOperation.ChatCompletions => "chat.completions",
        OpenAiOperation.Completions => "completions",
        OpenAiOperation.Embeddings => "embeddings",
        OpenAiOperation.Responses => "responses",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>Whether the request carries a prompt that is classified and routed by policy.</summary>
    public static bool IsGenerative(this OpenAiOperation operation) => operation != OpenAiOperation.Embeddings;
}
