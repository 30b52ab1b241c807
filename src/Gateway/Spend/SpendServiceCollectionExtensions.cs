using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Spend;

public static class SpendServiceCollectionExtensions
{
    public static IServiceCollection AddGatewaySpend(this IServiceCollection services)
    {
        services.AddSingleton<BudgetTracker>();
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section)
            .Validate(o => o.WebhookUrl is not { Length: > 0 } url || Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http",
                "Alerts:WebhookUrl must be an absolute http(s) URL")
            .Validate(o => o.Retries is >= 0 and <= 20, "Alerts:Retries must be between 0 and 20")
            .ValidateOnStart();
        services.AddSingleton<BudgetAlerts>();
        services.AddHostedService(sp => sp.GetRequiredService<BudgetAlerts>());
        services.AddSingleton<BudgetGate>();
        services.AddSingleton<OutputTokenStats>();
        services.AddSingleton<UsageEstimator>();
        services.AddSingleton<SpendLedgerStore>();
        services.AddSingleton<LedgerWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerWriter>());
        services.AddSingleton<ISpendRecorder, SpendRecorder>();
        services.AddHealthChecks().AddCheck<LedgerHealthCheck>("ledger", tags: ["ready"]);
        return services;
    }
}

/// <summary>Unready only when the ledger buffer is full: a slow or failing store alone does not stop traffic.</summary>
internal sealed class LedgerHealthCheck(LedgerWriter writer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(writer.BufferFull
            ? HealthCheckResult.Unhealthy($"the ledger buffer is full ({writer.Pending} records waiting for the store)")
            : HealthCheckResult.Healthy($"{writer.Pending} records pending"));
}
