using Gateway.Policies;

namespace Gateway.Spend;

/// <summary>Prices usage. All money is <see cref="decimal"/> USD; finance reconciles to the cent.</summary>
public static class Pricing
{
    private const decimal TokensPerPriceUnit = 1_000_000m;

    public static decimal Cost(RoutePrice price, Usage usage)
    {
        var cached = Math.Clamp(usage.CachedPromptTokens, 0, usage.PromptTokens);
        var uncached = usage.PromptTokens - cached;
        var cachedRate = price.CachedInputPerMTok ?? price.InputPerMTok;
        return (uncached * price.InputPerMTok + cached * cachedRate + usage.CompletionTokens * price.OutputPerMTok)
               / TokensPerPriceUnit;
    }
}
