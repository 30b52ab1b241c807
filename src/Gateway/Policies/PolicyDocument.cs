namespace Gateway.Policies;

// The YAML shape of policies/routing.yaml (documented in docs/policies.md, schema in
// policies/routing.schema.json). Mutable because YamlDotNet fills it; it never leaves the loader:
// validation turns it into an immutable RoutingPolicy.

internal sealed class PolicyDocument
{
    public string? DefaultRoute { get; set; }
    public string? ReferenceRoute { get; set; }
    public ObjectiveDocument? Objective { get; set; }
    public Dictionary<string, RouteDocument?>? Routes { get; set; }
    public List<RuleDocument?>? Rules { get; set; }
    public Dictionary<string, BudgetDocument?>? Budgets { get; set; }
    public Dictionary<string, RateLimitDocument?>? RateLimits { get; set; }
}

internal sealed class RateLimitDocument
{
    public long? Rpm { get; set; }
    public long? Tpm { get; set; }
}

internal sealed class ObjectiveDocument
{
    public string? Type { get; set; }
    public double? QualityFloor { get; set; }
    public decimal? CostCapUsd { get; set; }
    public int? ExpectedOutputTokens { get; set; }
}

/// <summary>One route as written in the policy (what <see cref="IRouteKind"/> validates).</summary>
public sealed class RouteDocument
{
    public string? Kind { get; set; }
    public string? Upstream { get; set; }
    public string? LocalModel { get; set; }
    public string? BaseModel { get; set; }
    public string? Adapter { get; set; }
    public string? AdapterFile { get; set; }
    public float? AdapterScale { get; set; }
    public string? Knowledge { get; set; }
    public string? Model { get; set; }
    public PriceDocument? Price { get; set; }
    public Dictionary<string, double?>? Quality { get; set; }
    public string? LatencyClass { get; set; }
    public List<string>? PinnableBy { get; set; }
    public Dictionary<string, PriceDocument?>? Models { get; set; }
    public List<string>? Fallbacks { get; set; }

    /// <summary>Settings of a route kind registered as a plug-in (its <see cref="IRouteKind"/> validates them).</summary>
    public Dictionary<string, string?>? Options { get; set; }
}

public sealed class PriceDocument
{
    public decimal? InputPerMtok { get; set; }
    public decimal? OutputPerMtok { get; set; }
    public decimal? CachedInputPerMtok { get; set; }

    public RoutePrice ToPrice() => new(InputPerMtok ?? 0, OutputPerMtok ?? 0, CachedInputPerMtok);
}

internal sealed class RuleDocument
{
    public string? Name { get; set; }
    public ConditionDocument? When { get; set; }
    public ActionDocument? Then { get; set; }
}

internal sealed class ConditionDocument
{
    public List<string>? Category { get; set; }
    public RangeDocument? NeedsStrong { get; set; }
    public List<string>? Team { get; set; }
    public List<string>? Key { get; set; }
    public List<string>? Model { get; set; }
    public RangeDocument? PromptTokens { get; set; }
    public bool? Tools { get; set; }
    public bool? Stream { get; set; }
    public RangeDocument? RetrievalRelevance { get; set; }
    public Dictionary<string, List<string>?>? Headers { get; set; }
}

internal sealed class RangeDocument
{
    public double? Min { get; set; }
    public double? Max { get; set; }
}

internal sealed class ActionDocument
{
    public string? Route { get; set; }
    public List<string>? Exclude { get; set; }
    public double? QualityFloor { get; set; }
    public decimal? CostCapUsd { get; set; }
}

internal sealed class BudgetDocument
{
    public decimal? DailyUsd { get; set; }
    public decimal? MonthlyUsd { get; set; }
    public string? OnExceed { get; set; }
    public string? DowngradeTo { get; set; }
    public List<decimal>? AlertAt { get; set; }
}
