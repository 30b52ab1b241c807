namespace Gateway.OpenAi;

/// <summary>The OpenAI endpoints the gateway serves with a request body.</summary>
public enum OpenAiOperation
{
    ChatCompletions,
    Completions,
    Embeddings,
}

public static class OpenAiOperationExtensions
{
    /// <summary>The path below the provider's base URL (which, by convention, ends in <c>/v1</c>).</summary>
    public static string UpstreamPath(this OpenAiOperation operation) => operation switch
    {
        OpenAiOperation.ChatCompletions => "/chat/completions",
        OpenAiOperation.Completions => "/completions",
        OpenAiOperation.Embeddings => "/embeddings",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>Whether the request carries a prompt that is classified and routed by policy.</summary>
    public static bool IsGenerative(this OpenAiOperation operation) => operation != OpenAiOperation.Embeddings;
}
