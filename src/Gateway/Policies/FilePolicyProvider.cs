using Gateway.Hosting;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Policies;

/// <summary>
/// Loads <c>routing.yaml</c> from <see cref="PolicyOptions.Path"/> when the host starts. An invalid
/// first load stops start-up with every error listed.
/// </summary>
public sealed class FilePolicyProvider(
    IOptions<PolicyOptions> options,
    PolicyLoader loader,
    IHostEnvironment hostEnvironment,
    ILogger<FilePolicyProvider> logger) : IPolicyProvider, IHostedService
{
    private RoutingPolicy? _current;

    public RoutingPolicy Current => Volatile.Read(ref _current)
        ?? throw new InvalidOperationException("The routing policy has not been loaded yet.");

    public bool IsLoaded => Volatile.Read(ref _current) is not null;

    /// <summary>The policy file in use.</summary>
    public string FilePath => ResolveFile(options.Value.Path, hostEnvironment.ContentRootPath);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            throw new PolicyLoadException(path, [$"file not found; set Policies:Path to the folder holding {PolicyOptions.RoutingFileName}"]);
        }

        var result = loader.Load(await File.ReadAllTextAsync(path, cancellationToken));
        if (result.Policy is null)
        {
            throw new PolicyLoadException(path, result.Errors);
        }

        Volatile.Write(ref _current, result.Policy);
        Log.PolicyLoaded(logger, path, result.Policy.Version, result.Policy.Routes.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal static string ResolveFile(string folder, string contentRoot) =>
        AppFiles.Resolve(Path.Combine(folder, PolicyOptions.RoutingFileName), contentRoot);
}

/// <summary>A policy that cannot be used; its message lists every error.</summary>
public sealed class PolicyLoadException(string path, IReadOnlyList<string> errors)
    : Exception($"The routing policy {path} is invalid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
