using System.Collections.Frozen;
using Gateway.Policies;

namespace Gateway.Targets;

/// <summary>Tells policy validation which route kinds and targets the registered strategies can serve.</summary>
internal sealed class TargetsPolicyEnvironment(IEnumerable<IRouteTarget> targets) : IPolicyEnvironment
{
    private readonly FrozenDictionary<string, IReadOnlySet<string>> _byKind =
        targets.ToFrozenDictionary(t => t.Kind, t => t.KnownTargets, StringComparer.Ordinal);

    public IReadOnlySet<string>? TargetsFor(string kind) => _byKind.GetValueOrDefault(kind);
}
