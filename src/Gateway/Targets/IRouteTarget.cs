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

    Task<RouteOutcome> ExecuteAsync(RouteInvocation invocation, CancellationToken cancellationToken);
}
