using Gateway.Auth;
using Gateway.Policies;
using Gateway.Targets.Hosted;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>
/// Logs, once the gateway is up, what it serves and what to configure next, so a first run with
/// nothing configured explains itself.
/// </summary>
internal sealed class StartupReport(
    IHostApplicationLifetime lifetime,
    IPolicyProvider policies,
    UpstreamRegistry upstreams,
    IOptions<AuthOptions> auth,
    IConfiguration configuration,
    ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(Report);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Report()
    {
        var policy = policies.Current;
        Log.Started(logger, policy.Version, string.Join(", ", policy.Routes.Select(r => $"{r.Name} ({r.Kind})")));

        var keys = auth.Value.Keys;
        if (keys.Count == 0)
        {
            Log.NoClientKeys(logger);
        }
        else
        {
            Log.ClientKeys(logger, keys.Count, string.Join(", ", keys.Select(k => k.Team).Distinct()));
        }

        if (string.IsNullOrEmpty(auth.Value.AdminKey))
        {
            Log.NoAdminKey(logger);
        }

        foreach (var upstream in upstreams.All.Where(u => u.Deployments.Any(d => d.ApiKey is null)))
        {
            Log.UpstreamWithoutKey(logger, upstream.Name, upstream.BaseUrl, upstream.Name == "openai" ? " or OPENAI_API_KEY" : "");
        }

        if (!configuration.GetSection("LocalModels").GetChildren().Any())
        {
            Log.NoLocalModel(logger);
        }
    }
}
