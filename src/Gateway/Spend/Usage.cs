namespace Gateway.Spend;

/// <summary>Tokens one request consumed, as reported by the route that served it.</summary>
/// <param name="CachedPromptTokens">Prompt tokens the provider served from its cache (a subset of <paramref name="PromptTokens"/>).</param>
/// <param name="Estimated">True when the gateway counted the tokens itself because the provider did not report them.</param>
public sealed record Usage(int PromptTokens, int CompletionTokens, int CachedPromptTokens = 0, bool Estimated = false)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
