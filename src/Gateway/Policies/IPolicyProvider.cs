namespace Gateway.Policies;

/// <summary>Publishes the current policy snapshot.</summary>
public interface IPolicyProvider
{
    /// <summary>The snapshot to use for one request. Read it once; a reload swaps the reference.</summary>
    RoutingPolicy Current { get; }
}
