using System.Collections.Concurrent;
using Gateway.Hosting;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Targets.Hosted;
using LLama.Native;

namespace Gateway.Targets.Local;

/// <summary>
/// Serves adapter routes. A hosted adapter (upstream + model name, as vLLM exposes LoRA adapters)
/// is forwarded exactly like a hosted route. An in-process adapter runs on its base model's pooled
/// contexts: each LoRA file is loaded once, applied to the context for one request and removed
/// after it, so requests for different adapters (and the bare base) never see each other's.
/// Adapters no longer referenced by the policy are unloaded once their last request has finished.
/// </summary>
internal sealed class AdapterRouteTarget(
    LocalModelHost models,
    LocalRouteTarget local,
    HostedRouteTarget hosted,
    IPolicyProvider policies,
    IHostEnvironment hostEnvironment,
    ILogger<AdapterRouteTarget> logger) : IRouteTarget
{
    private readonly ConcurrentDictionary<string, LoadedAdapter> _adapters = new(StringComparer.Ordinal);
    private readonly Lock _loading = new();
    private string? _sweptVersion;

    public string Kind => RouteKinds.Adapter;

    public async Task<RouteOutcome> ExecuteAsync(RouteInvocation invocation, CancellationToken cancellationToken)
    {
        var route = invocation.Route;
        if (route.Upstream is not null)
        {
            return await hosted.ExecuteAsync(invocation, cancellationToken);
        }

        Sweep();
        var model = models[route.Target ?? ""];
        if (model?.Weights is not { } weights)
        {
            return new RouteOutcome
            {
                Status = 503,
                Retryable = true,
                Error = OpenAiErrors.RouteUnavailable(route.Name, $"adapter ({model?.Failure ?? "base model not configured"})"),
            };
        }

        // Keyed by the policy's own spelling of the file: the path is resolved (file-system probes) only when loading.
        var file = route.AdapterFile!;
        LoadedAdapter adapter;
        try
        {
            lock (_loading)
            {
                adapter = _adapters.GetOrAdd(Key(model.Name, file), _ => Load(model, weights.NativeHandle, AppFiles.Resolve(file, hostEnvironment.ContentRootPath)));
                Interlocked.Increment(ref adapter.InFlight);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A file validation could not check (its base was not configured then): the route is unavailable, the fallback may serve.
            Telemetry.Log.LocalModelFailed(logger, $"{model.Name}+{route.Adapter}", $"cannot load adapter {file}: {ex.Message}");
            return new RouteOutcome
            {
                Status = 503,
                Retryable = true,
                Error = OpenAiErrors.RouteUnavailable(route.Name, $"adapter (cannot load {file})"),
            };
        }

        try
        {
            return await local.ServeAsync(invocation, model, (adapter.Handle, route.AdapterScale), cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref adapter.InFlight);
        }
    }

    private static string Key(string model, string file) => $"{model}|{file}";

    private LoadedAdapter Load(LocalModel model, SafeLlamaModelHandle weights, string path)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var handle = weights.LoadLoraFromFile(path);
        Telemetry.Log.AdapterLoaded(logger, path, model.Name, (int)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new LoadedAdapter(handle, path);
    }

    /// <summary>After a policy change, unloads adapters it no longer names, once nothing runs on them.</summary>
    private void Sweep()
    {
        var policy = policies.Current;
        if (policy.Version == Volatile.Read(ref _sweptVersion))
        {
            return;
        }

        var active = policy.Routes.Where(r => r is { Kind: RouteKinds.Adapter, AdapterFile: not null })
            .Select(r => Key(r.Target!, r.AdapterFile!))
            .ToHashSet(StringComparer.Ordinal);
        var pending = false;
        lock (_loading)
        {
            foreach (var (key, adapter) in _adapters)
            {
                if (active.Contains(key))
                {
                    continue;
                }

                if (Volatile.Read(ref adapter.InFlight) == 0 && _adapters.TryRemove(key, out _))
                {
                    adapter.Handle.Unload();
                    Telemetry.Log.AdapterUnloaded(logger, adapter.Path);
                }
                else
                {
                    pending = true; // still serving: try again on a later request
                }
            }
        }

        if (!pending)
        {
            Volatile.Write(ref _sweptVersion, policy.Version);
        }
    }

    private sealed class LoadedAdapter(LoraAdapter handle, string path)
    {
        public LoraAdapter Handle { get; } = handle;
        public string Path { get; } = path;
        public int InFlight;
    }
}
