using Gateway.OpenAi;
using System.Text.Json;
using Gateway.Hosting;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Classification;

/// <summary>
/// The gateway's <see cref="IPromptClassifier"/>: the ONNX model at <see cref="ClassifierOptions.ModelPath"/>,
/// loaded when the host starts (a missing or unusable model stops start-up) and swapped for a
/// retrained one when the file changes. A replacement that fails to load is logged and counted,
/// and the current model keeps serving.
/// </summary>
public sealed class OnnxPromptClassifier(
    IOptions<ClassifierOptions> options,
    IHostEnvironment hostEnvironment,
    GatewayMetrics metrics,
    ILogger<OnnxPromptClassifier> logger) : IPromptClassifier, IHostedService, IDisposable
{
    // A swapped-out session is disposed after in-flight calls (microseconds each) are surely done.
    private static readonly TimeSpan RetireAfter = TimeSpan.FromSeconds(30);

    private ClassifierModel? _current;
    private FileWatch? _watch;

    public string ModelPath => AppFiles.Resolve(options.Value.ModelPath, hostEnvironment.ContentRootPath);

    public bool IsLoaded => Volatile.Read(ref _current) is not null;

    /// <summary>The version of the model serving now, or null before start.</summary>
    public string? ModelVersion => Volatile.Read(ref _current)?.Version;

    public PromptClassification Classify(Conversation conversation)
    {
        var model = Volatile.Read(ref _current)
            ?? throw new InvalidOperationException("The classifier has not been loaded yet.");
        var result = model.Classify(conversation);
        metrics.Classified(result);
        return result;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var path = ModelPath;
        var model = ClassifierModel.Load(path);
        Volatile.Write(ref _current, model);
        metrics.ClassifierLoaded(model.Version);
        Log.ClassifierLoaded(logger, path, model.Version, string.Join(",", model.Labels));

        if (options.Value.ReloadOnChange)
        {
            _watch = new FileWatch(path, _ =>
            {
                Reload(path);
                return Task.CompletedTask;
            }, TimeProvider.System);
        }

        return Task.CompletedTask;
    }

    /// <summary>Loads the file again and swaps it in; keeps the current model if it fails. Returns whether it swapped.</summary>
    public bool Reload() => Reload(ModelPath);

    private bool Reload(string path)
    {
        ClassifierModel replacement;
        try
        {
            replacement = ClassifierModel.Load(path);
        }
        catch (ClassifierModelException ex)
        {
            metrics.ClassifierReload(succeeded: false);
            Log.ClassifierReloadFailed(logger, path, ex.Message, ModelVersion ?? "none");
            return false;
        }

        var previous = Interlocked.Exchange(ref _current, replacement);
        metrics.ClassifierReload(succeeded: true);
        metrics.ClassifierLoaded(replacement.Version);
        Log.ClassifierReloaded(logger, path, previous?.Version ?? "none", replacement.Version);
        if (previous is not null)
        {
            _ = Task.Delay(RetireAfter).ContinueWith(_ => previous.Dispose(), TaskScheduler.Default);
        }

        return true;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _watch, null)?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _watch, null)?.Dispose();
        Interlocked.Exchange(ref _current, null)?.Dispose();
    }
}
