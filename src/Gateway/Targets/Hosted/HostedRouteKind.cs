using Gateway.Policies;

namespace Gateway.Targets.Hosted;

/// <summary><c>kind: hosted</c>: a model behind an OpenAI-compatible provider, named by its upstream.</summary>
public sealed class HostedRouteKind(IReadOnlySet<string> upstreams) : IRouteKind
{
    public string Name => RouteKinds.Hosted;

    public void Validate(string path, RouteDocument route, ICollection<string> errors)
    {
        if (string.IsNullOrWhiteSpace(route.Upstream))
        {
            errors.Add($"{path}.upstream: is required for hosted routes (a name under Upstreams: in configuration)");
        }
        else if (!upstreams.Contains(route.Upstream))
        {
            errors.Add($"{path}.upstream: '{route.Upstream}' is not configured; set Upstreams:{route.Upstream}:BaseUrl "
                       + $"(known: {(upstreams.Count == 0 ? "none" : string.Join(", ", upstreams.Order(StringComparer.Ordinal)))})");
        }
    }

    public string? Target(RouteDocument route) => route.Upstream;

    public string? Availability(RouteDocument route) =>
        route.Upstream is { } upstream && upstreams.Contains(upstream) ? null : $"upstream '{route.Upstream}' is not configured";

    public bool InProcess(RouteDocument route) => false;
}
