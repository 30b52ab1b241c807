namespace Gateway.Policies;

/// <summary>
/// What the running gateway can serve, so that validation rejects a policy naming a kind, upstream or model that does
/// not exist here. The route kinds are registered by the targets; Policies never reads their options.
/// </summary>
public interface IPolicyEnvironment
{
    /// <summary>The route kinds this build serves, in the order error messages list them.</summary>
    IReadOnlyList<IRouteKind> Kinds { get; }
}

/// <summary>The registered route kinds (one per strategy folder under <c>Targets/</c>).</summary>
public sealed class RouteKindsEnvironment(IEnumerable<IRouteKind> kinds) : IPolicyEnvironment
{
    public IReadOnlyList<IRouteKind> Kinds { get; } = [.. kinds];
}
