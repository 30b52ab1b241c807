using Gateway.Policies;

namespace Gateway.Routing;

/// <summary>Where one request goes, why, and what to try if that fails.</summary>
public sealed record RouteDecision(
    PolicyRoute Route,
    string TargetModel,
    string Reason,
    IReadOnlyList<PolicyRoute> Fallbacks);
