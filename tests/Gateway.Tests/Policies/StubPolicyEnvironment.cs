using Gateway.Policies;

namespace Gateway.Tests.Policies;

/// <summary>A gateway that can reach these upstreams (hosted routes) and these local models (local and adapter routes); null: the kind has no target here.</summary>
internal sealed class StubPolicyEnvironment(IEnumerable<string>? upstreams = null, IEnumerable<string>? localModels = null) : IPolicyEnvironment
{
    private readonly HashSet<string>? _upstreams = upstreams?.ToHashSet(StringComparer.Ordinal);
    private readonly HashSet<string>? _localModels = localModels?.ToHashSet(StringComparer.Ordinal);

    public IReadOnlySet<string>? TargetsFor(string kind) => kind switch
    {
        RouteKinds.Hosted => _upstreams,
        RouteKinds.Local => _localModels,
        _ => null,
    };
}
