using Gateway.Hosting;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Policies;

/// <summary>
/// Serves <c>routing.yaml</c> from <see cref="PolicyOptions.Path"/> as immutable snapshots.
/// An invalid first load stops start-up with every error listed. Afterwards, a change on disk is
/// applied within about a second (debounced); an invalid change is logged, counted and ignored, and
/// the last good snapshot keeps serving. <see cref="ApplyAsync"/> (the admin API) validates, writes
/// the file atomically and swaps in one step. Every applied change is audited.
/// </summary>
public sealed class FilePolicyProvider(
    IOptions<PolicyOptions> options,
    PolicyLoader loader,
    PolicyAuditStore audit,
    GatewayMetrics metrics,
    IHostEnvironment hostEnvironment,
    TimeProvider timeProvider,
    ILogger<FilePolicyProvider> logger) : IPolicyProvider, IHostedService, IDisposable
{
    public const string FileActor = "file";

    private readonly SemaphoreSlim _applying = new(1, 1);
    private RoutingPolicy? _current;
    private FileWatch? _watch;
    private string? _lastRejected;

    public RoutingPolicy Current => Volatile.Read(ref _current)
        ?? throw new InvalidOperationException("The routing policy has not been loaded yet.");

    public bool IsLoaded => Volatile.Read(ref _current) is not null;

    /// <summary>The policy file in use.</summary>
    public string FilePath => ResolveFile(options.Value.Path, hostEnvironment.ContentRootPath);

    /// <summary>What would keep <see cref="StartAsync"/> from loading the policy file, each error prefixed with the file; empty when it loads.</summary>
    public IReadOnlyList<string> Check()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return [$"{path}: file not found; set Policies:Path to the folder holding {PolicyOptions.RoutingFileName}"];
        }

        var yaml = File.ReadAllText(path);
        var result = loader.Load(yaml);
        _checked = (yaml, result); // StartAsync reuses it when the file is unchanged (loading reads adapter files)
        return result.Errors.Select(e => $"{path}: {e}").ToList();
    }

    private (string Yaml, PolicyLoadResult Result)? _checked;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            throw new PolicyLoadException(path, [$"file not found; set Policies:Path to the folder holding {PolicyOptions.RoutingFileName}"]);
        }

        var yaml = await File.ReadAllTextAsync(path, cancellationToken);
        var result = _checked is { } earlier && earlier.Yaml == yaml ? earlier.Result : loader.Load(yaml);
        _checked = null;
        if (result.Policy is null)
        {
            throw new PolicyLoadException(path, result.Errors);
        }

        // A document that differs from the last audited one (edited while stopped, or first start) is audited too.
        var lastAudited = await audit.LastVersionAsync(cancellationToken);
        Publish(result, null, null);
        if (lastAudited != result.Policy.Version)
        {
            await audit.AppendAsync(timeProvider.GetUtcNow(), FileActor, "start", null, result.Policy, cancellationToken);
        }

        if (options.Value.ReloadOnChange)
        {
            _watch = new FileWatch(path, ReloadOnChangeAsync, timeProvider);
        }
    }

    private async Task ReloadOnChangeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ReloadFromFileAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            metrics.PolicyReload(succeeded: false, FileActor);
            Log.PolicyReloadRejected(logger, FilePath, Current.Version, ex.Message);
        }
    }

    /// <summary>Reads the file again; applies it if it changed and is valid. Returns the errors that kept it out, if any.</summary>
    internal async Task<IReadOnlyList<string>> ReloadFromFileAsync(CancellationToken cancellationToken)
    {
        await _applying.WaitAsync(cancellationToken);
        try
        {
            var path = FilePath;
            var before = Stamp(path);
            var yaml = await File.ReadAllTextAsync(path, cancellationToken);
            if (Stamp(path) != before)
            {
                // Written to while we read it: what we hold may be part of each version. The write raises another event.
                return [];
            }

            var version = PolicyLoader.Version(yaml);
            if (version == Current.Version)
            {
                return [];
            }

            var result = loader.Load(yaml);
            if (result.Policy is null)
            {
                // The same invalid document is reported once, however many file events it raises.
                if (_lastRejected != version)
                {
                    _lastRejected = version;
                    metrics.PolicyReload(succeeded: false, FileActor);
                    Log.PolicyReloadRejected(logger, path, Current.Version, string.Join(Environment.NewLine + "  ", result.Errors));
                }

                return result.Errors;
            }

            var previous = Current;
            Publish(result, previous, FileActor);
            await audit.AppendAsync(timeProvider.GetUtcNow(), FileActor, FileActor, previous, result.Policy, cancellationToken);
            return [];
        }
        finally
        {
            _applying.Release();
        }
    }

    private static (long Length, DateTime Written) Stamp(string path)
    {
        var info = new FileInfo(path);
        return (info.Length, info.LastWriteTimeUtc);
    }

    /// <summary>
    /// Validates <paramref name="yaml"/> and, if valid, writes it over the policy file (temp file +
    /// rename, so a reader never sees half a document), publishes it and audits it.
    /// </summary>
    /// <param name="simulation">The summary of the simulation this change was checked with, kept in its audit entry.</param>
    public async Task<PolicyLoadResult> ApplyAsync(string yaml, string actor, string source, CancellationToken cancellationToken, string? simulation = null)
    {
        await _applying.WaitAsync(cancellationToken);
        try
        {
            var result = loader.Load(yaml);
            if (result.Policy is null)
            {
                metrics.PolicyReload(succeeded: false, source);
                return result;
            }

            var before = Current;
            if (result.Policy.Version == before.Version)
            {
                return result with { Policy = before };
            }

            var path = FilePath;
            var temp = path + ".tmp";
            try
            {
                await File.WriteAllTextAsync(temp, yaml, cancellationToken);
                File.Move(temp, path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not applied: serving a policy the file does not hold would be undone by the next restart.
                metrics.PolicyReload(succeeded: false, source);
                throw new PolicyWriteException(path, ex);
            }

            Publish(result, before, source);
            await audit.AppendAsync(timeProvider.GetUtcNow(), actor, source, before, result.Policy, cancellationToken, simulation);
            return result;
        }
        finally
        {
            _applying.Release();
        }
    }

    private void Publish(PolicyLoadResult result, RoutingPolicy? before, string? source)
    {
        var policy = result.Policy!;
        Volatile.Write(ref _current, policy);
        metrics.PolicyApplied(policy.Version);
        if (source is not null && before is not null)
        {
            metrics.PolicyReload(succeeded: true, source);
        }

        if (before is null)
        {
            Log.PolicyLoaded(logger, FilePath, policy.Version, policy.Routes.Count);
        }
        else
        {
            Log.PolicyApplied(logger, FilePath, before.Version, policy.Version, source ?? "start");
        }

        foreach (var warning in result.Warnings ?? [])
        {
            Log.PolicyWarning(logger, policy.Version, warning);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _watch, null)?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _watch, null)?.Dispose();
        _applying.Dispose();
    }

    internal static string ResolveFile(string folder, string contentRoot) =>
        AppFiles.Resolve(Path.Combine(folder, PolicyOptions.RoutingFileName), contentRoot);
}

/// <summary>A valid policy that could not be written to its file, and so was not applied.</summary>
public sealed class PolicyWriteException(string path, Exception inner)
    : Exception($"The policy file {path} cannot be written ({inner.Message}); nothing was applied. Make the folder writable by the gateway.", inner);

/// <summary>A policy that cannot be used; its message lists every error.</summary>
public sealed class PolicyLoadException(string path, IReadOnlyList<string> errors)
    : Exception($"The routing policy {path} is invalid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
