using Gateway.Policies;

namespace Gateway.Targets.Local;

/// <summary><c>kind: local</c>: a GGUF model run in this process, named under <c>LocalModels:</c>.</summary>
public sealed class LocalRouteKind(IReadOnlySet<string> localModels) : IRouteKind
{
    public string Name => RouteKinds.Local;

    public void Validate(string path, RouteDocument route, ICollection<string> errors)
    {
        if (string.IsNullOrWhiteSpace(route.LocalModel))
        {
            errors.Add($"{path}.local_model: is required for local routes (a name under LocalModels: in configuration)");
        }
    }

    public string? Target(RouteDocument route) => route.LocalModel;

    public string? Availability(RouteDocument route) =>
        route.LocalModel is { } model && localModels.Contains(model) ? null : $"local model '{route.LocalModel}' is not configured (LocalModels:{route.LocalModel}:Path)";

    public bool InProcess(RouteDocument route) => true;
}
