using Gateway.Telemetry;
using LLama;
using LLama.Common;
using Microsoft.Extensions.Options;

namespace Gateway.Targets.Local;

/// <summary>
/// Loads every configured GGUF model once, when the host starts. A missing or unreadable file is
/// logged with its path and reason and leaves that model unavailable (its routes fall back or get
/// 503); the gateway stays up.
/// </summary>
public sealed class LocalModelHost(IOptions<Dictionary<string, LocalModelOptions>> options, ILogger<LocalModelHost> logger) : IHostedService, IDisposable
{
    private readonly Dictionary<string, LocalModel> _models = new(StringComparer.Ordinal);

    /// <summary>The configured model names (loaded or not): what local routes may reference.</summary>
    public IReadOnlySet<string> Names { get; } = options.Value.Keys.ToHashSet(StringComparer.Ordinal);

    public LocalModel? this[string name] => _models.GetValueOrDefault(name);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, model) in options.Value)
        {
            _models[name] = LocalModel.Load(name, model, logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var model in _models.Values)
        {
            model.Dispose();
        }
    }
}

/// <summary>
/// A loaded model (or why it is not), with its pool of contexts: <see cref="LocalModelOptions.MaxConcurrent"/>
/// contexts (each with its KV cache) created once at load and reused, one per request in flight.
/// </summary>
public sealed class LocalModel : IDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentBag<LLamaContext> _contexts = [];

    private LocalModel(string name, LocalModelOptions options, LLamaWeights? weights, ModelParams parameters, string? failure)
    {
        Name = name;
        Options = options;
        Weights = weights;
        Parameters = parameters;
        Failure = failure;
        Slots = new SemaphoreSlim(options.MaxConcurrent, options.MaxConcurrent);
        if (weights is not null)
        {
            for (var i = 0; i < options.MaxConcurrent; i++)
            {
                _contexts.Add(weights.CreateContext(parameters));
            }
        }
    }

    /// <summary>Takes a context; call only while holding a slot, and give it back with <see cref="Return"/>.</summary>
    public LLamaContext Rent() =>
        _contexts.TryTake(out var context) ? context : throw new InvalidOperationException("a slot was held without a free context");

    public void Return(LLamaContext context) => _contexts.Add(context);

    public string Name { get; }
    public LocalModelOptions Options { get; }
    public LLamaWeights? Weights { get; }
    public ModelParams Parameters { get; }

    /// <summary><c>general.architecture</c> of the GGUF (adapters must match it).</summary>
    public string? Architecture => Weights?.Metadata.GetValueOrDefault("general.architecture");

    /// <summary>Why the model could not be loaded; null when it is serving.</summary>
    public string? Failure { get; }

    public SemaphoreSlim Slots { get; }

    internal static LocalModel Load(string name, LocalModelOptions options, ILogger logger)
    {
        var parameters = new ModelParams(options.Path)
        {
            ContextSize = options.ContextSize,
            GpuLayerCount = options.GpuLayers,
            Threads = options.Threads,
        };
        if (!File.Exists(options.Path))
        {
            var missing = $"file not found: {options.Path} (LocalModels:{name}:Path)";
            Log.LocalModelFailed(logger, name, missing);
            return new LocalModel(name, options, null, parameters, missing);
        }

        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var weights = LLamaWeights.LoadFromFile(parameters);
            Log.LocalModelLoaded(logger, name, options.Path, weights.Vocab.Count, (int)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new LocalModel(name, options, weights, parameters, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var reason = $"cannot load {options.Path}: {ex.Message}";
            Log.LocalModelFailed(logger, name, reason);
            return new LocalModel(name, options, null, parameters, reason);
        }
    }

    public void Dispose()
    {
        foreach (var context in _contexts)
        {
            context.Dispose();
        }

        Weights?.Dispose();
        Slots.Dispose();
    }
}
