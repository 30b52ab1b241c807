using System.Collections.Frozen;

namespace Gateway.Policies;

/// <summary>
/// One immutable, validated policy snapshot. Routing reads <see cref="IPolicyProvider.Current"/> once
/// per request and never mutates it; a reload publishes a new instance.
/// </summary>
public sealed class RoutingPolicy
{
    public RoutingPolicy(string version, DateTimeOffset loadedAt, IReadOnlyList<PolicyRoute> routes, string defaultRoute, string? referenceRoute)
    {
        Version = version;
        LoadedAt = loadedAt;
        Routes = routes;
        RoutesByName = routes.ToFrozenDictionary(r => r.Name, StringComparer.Ordinal);
        DefaultRoute = RoutesByName[defaultRoute];
        ReferenceRoute = referenceRoute is null ? null : RoutesByName[referenceRoute];

        // First route listing a concrete model wins, in document order.
        var byModel = new Dictionary<string, PolicyRoute>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            byModel.TryAdd(route.Model, route);
            foreach (var model in route.PinnableModels.Keys)
            {
                byModel.TryAdd(model, route);
            }
        }

        RoutesByModel = byModel.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>A short content hash of the document: equal documents have equal versions.</summary>
    public string Version { get; }

    public DateTimeOffset LoadedAt { get; }

    public IReadOnlyList<PolicyRoute> Routes { get; }

    public FrozenDictionary<string, PolicyRoute> RoutesByName { get; }

    /// <summary>Concrete model names a client may pin, with the route that serves each.</summary>
    public FrozenDictionary<string, PolicyRoute> RoutesByModel { get; }

    public PolicyRoute DefaultRoute { get; }

    /// <summary>The hosted route whose prices define what a request would have cost without routing.</summary>
    public PolicyRoute? ReferenceRoute { get; }
}

/// <summary>A route: one strategy with its target and prices.</summary>
public sealed record PolicyRoute
{
    public required string Name { get; init; }

    /// <summary>The strategy: <see cref="RouteKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>For hosted routes: the upstream name under <c>Upstreams:</c>.</summary>
    public string? Upstream { get; init; }

    /// <summary>The model sent to the target when the client asks for <c>auto</c> or the route's name.</summary>
    public required string Model { get; init; }

    public required RoutePrice Price { get; init; }

    /// <summary>Further concrete models clients may pin on this route, each with its own price.</summary>
    public FrozenDictionary<string, RoutePrice> PinnableModels { get; init; } = FrozenDictionary<string, RoutePrice>.Empty;

    /// <summary>Route names tried in order when this route fails before answering.</summary>
    public IReadOnlyList<string> Fallbacks { get; init; } = [];

    public RoutePrice PriceFor(string model) =>
        string.Equals(model, Model, StringComparison.Ordinal) ? Price : PinnableModels.GetValueOrDefault(model, Price);
}

/// <summary>USD per one million tokens.</summary>
public sealed record RoutePrice(decimal InputPerMTok, decimal OutputPerMTok, decimal? CachedInputPerMTok = null);

public static class RouteKinds
{
    public const string Hosted = "hosted";
    public const string Local = "local";
    public const string Adapter = "adapter";

    public static readonly FrozenSet<string> All = new[] { Hosted, Local, Adapter }.ToFrozenSet(StringComparer.Ordinal);
}
