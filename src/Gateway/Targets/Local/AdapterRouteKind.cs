using Gateway.Policies;

namespace Gateway.Targets.Local;

/// <summary>
/// <c>kind: adapter</c>: a LoRA adapter, either on a local model (<c>base_model</c> + <c>adapter_file</c>, run in this
/// process) or served by a provider under its own model name (<c>upstream</c>, as vLLM exposes LoRA adapters).
/// </summary>
/// <param name="files">Checks adapter files; null checks none (tests without files).</param>
public sealed class AdapterRouteKind(IReadOnlySet<string> localModels, IReadOnlySet<string> upstreams, IAdapterFiles? files = null) : IRouteKind
{
    public string Name => RouteKinds.Adapter;

    public void Validate(string path, RouteDocument route, ICollection<string> errors)
    {
        if (string.IsNullOrWhiteSpace(route.Adapter))
        {
            errors.Add($"{path}.adapter: is required for adapter routes (the LoRA adapter's name)");
        }

        if (string.IsNullOrWhiteSpace(route.BaseModel) == string.IsNullOrWhiteSpace(route.Upstream))
        {
            errors.Add($"{path}: an adapter route needs exactly one of base_model (a local model) or upstream (a hosted adapter)");
        }
        else if (route.BaseModel is { } baseModel)
        {
            if (string.IsNullOrWhiteSpace(route.AdapterFile))
            {
                errors.Add($"{path}.adapter_file: is required for an adapter on a local model (a LoRA GGUF file)");
            }
            else if (localModels.Contains(baseModel) && files?.Check(baseModel, route.AdapterFile) is { } problem)
            {
                // Checked only when the base model is configured here; otherwise the route is unavailable anyway.
                errors.Add($"{path}.adapter_file: {problem}");
            }
        }

        if (route.AdapterScale is { } scale && scale is not (>= 0 and <= 4))
        {
            errors.Add($"{path}.adapter_scale: must be between 0 and 4 (1 applies the adapter as trained)");
        }
        else if (route.Upstream is { } upstream && !upstreams.Contains(upstream))
        {
            errors.Add($"{path}.upstream: '{upstream}' is not configured; set Upstreams:{upstream}:BaseUrl");
        }
    }

    public string? Target(RouteDocument route) => route.Upstream ?? route.BaseModel;

    public string? Availability(RouteDocument route)
    {
        if (route.Upstream is { } upstream)
        {
            return upstreams.Contains(upstream) ? null : $"upstream '{upstream}' is not configured";
        }

        return route.BaseModel is not { } baseModel || !localModels.Contains(baseModel)
            ? $"base model '{route.BaseModel}' is not configured"
            : route.AdapterFile is { Length: > 0 } file ? files?.Missing(file) : null;
    }

    public bool InProcess(RouteDocument route) => route.Upstream is null;
}

/// <summary>What adapter validation reads of LoRA files on disk.</summary>
public interface IAdapterFiles
{
    /// <summary>
    /// Why <paramref name="file"/> cannot serve as a LoRA adapter on local model <paramref name="baseModel"/> (a file that is
    /// there but wrong: a validation error), or null when it can or is not there yet (see <see cref="Missing"/>).
    /// </summary>
    string? Check(string baseModel, string file);

    /// <summary>
    /// Null when <paramref name="file"/> exists, else why the route is unavailable: like a missing model file, a missing
    /// adapter file makes its route unavailable (skipped, reported) rather than the whole policy invalid.
    /// </summary>
    string? Missing(string file);
}
