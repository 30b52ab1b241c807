namespace Gateway.Policies;

/// <summary>
/// A routing strategy as policies see it: the fields a route of its kind needs, what it runs on, whether this gateway
/// can serve it now, and whether it runs in-process. Each strategy's folder under <c>Targets/</c> registers one beside
/// its <c>IRouteTarget</c>; validation, loading and routing ask the kind instead of switching on its name.
/// </summary>
public interface IRouteKind
{
    /// <summary>The <c>kind:</c> value in a policy (<see cref="RouteKinds"/>).</summary>
    string Name { get; }

    /// <summary>Adds an error, with its path, for every problem in the kind's own fields of <paramref name="route"/>.</summary>
    void Validate(string path, RouteDocument route, ICollection<string> errors);

    /// <summary>What the route runs on (an upstream, a local model), as <see cref="PolicyRoute.Target"/>.</summary>
    string? Target(RouteDocument route);

    /// <summary>
    /// Null when this gateway can serve the route now, else why not. An unavailable route is skipped and reported, not
    /// an invalid policy: a model may be configured after the policy names it.
    /// </summary>
    string? Availability(RouteDocument route);

    /// <summary>
    /// Served in this process rather than by a provider: it cannot call tools for the client or continue a provider's
    /// stored response, and it may ground its answer in a knowledge collection.
    /// </summary>
    bool InProcess(RouteDocument route);
}
