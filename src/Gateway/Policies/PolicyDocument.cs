namespace Gateway.Policies;

// The YAML shape of policies/routing.yaml. Mutable because YamlDotNet fills it; it never leaves
// the loader: validation turns it into an immutable RoutingPolicy.

internal sealed class PolicyDocument
{
    public string? DefaultRoute { get; set; }
    public string? ReferenceRoute { get; set; }
    public Dictionary<string, RouteDocument?>? Routes { get; set; }
}

internal sealed class RouteDocument
{
    public string? Kind { get; set; }
    public string? Upstream { get; set; }
    public string? Model { get; set; }
    public PriceDocument? Price { get; set; }
    public Dictionary<string, PriceDocument?>? Models { get; set; }
    public List<string>? Fallbacks { get; set; }
}

internal sealed class PriceDocument
{
    public decimal? InputPerMtok { get; set; }
    public decimal? OutputPerMtok { get; set; }
    public decimal? CachedInputPerMtok { get; set; }

    public RoutePrice ToPrice() => new(InputPerMtok ?? 0, OutputPerMtok ?? 0, CachedInputPerMtok);
}
