namespace Gateway.Targets;

/// <summary>
/// One strategy that serves a route of its <see cref="Kind"/>. A target writes the response and
/// reports <see cref="RouteOutcome.Usage"/>; it never writes the ledger (Spend does).
/// Adding a strategy is adding a folder with one of these and registering it.
/// </summary>
public interface IRouteTarget
{
    /// <summary>The route kind served (<see cref="Policies.RouteKinds"/>).</summary>
    string Kind { get; }

    /// <summary>The names a route of this kind may reference (upstreams, local models), for policy validation.</summary>
    IReadOnlySet<string> KnownTargets { get; }

    Task<RouteOutcome> ExecuteAsync(RouteInvocation invocation, CancellationToken cancellationToken);
}
