using Gateway.Policies;

namespace Gateway.Spend;

/// <summary>Prices usage. All money is <see cref="decimal"/> USD; finance reconciles to the cent.</summary>
public static class Pricing
{
    private const decimal TokensPerPriceUnit = 1_000_000m;

    public static decimal Cost(RoutePrice price, Usage usage)
    {
        // Counts are never negative here (readers refuse them); clamping keeps pricing total on any input.
        var prompt = Math.Max(0, usage.PromptTokens);
        var cached = Math.Clamp(usage.CachedPromptTokens, 0, prompt);
        var uncached = prompt - cached;
        var cachedRate = price.CachedInputPerMTok ?? price.InputPerMTok;
        return ((decimal)uncached * price.InputPerMTok + (decimal)cached * cachedRate + (decimal)Math.Max(0, usage.CompletionTokens) * price.OutputPerMTok)
               / TokensPerPriceUnit;
    }
}
