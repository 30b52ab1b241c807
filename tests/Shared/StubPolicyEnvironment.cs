using Gateway.Policies;
using Gateway.Targets.Hosted;
using Gateway.Targets.Local;

namespace Gateway.Testing;

/// <summary>A gateway with the shipped route kinds that can reach these upstreams and these local models (none when null); adapter files are not checked.</summary>
internal sealed class StubPolicyEnvironment(IEnumerable<string>? upstreams = null, IEnumerable<string>? localModels = null) : IPolicyEnvironment
{
    private static readonly HashSet<string> None = [];

    public IReadOnlyList<IRouteKind> Kinds { get; } = Create(upstreams?.ToHashSet(StringComparer.Ordinal) ?? None, localModels?.ToHashSet(StringComparer.Ordinal) ?? None);

    private static IRouteKind[] Create(HashSet<string> upstreams, HashSet<string> localModels) =>
        [new HostedRouteKind(upstreams), new LocalRouteKind(localModels), new AdapterRouteKind(localModels, upstreams)];
}
