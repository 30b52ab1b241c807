using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Policies;

public static class PolicyServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayPolicies(this IServiceCollection services)
    {
        services.AddOptions<PolicyOptions>().BindConfiguration(PolicyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PolicyLoader>();
        services.AddSingleton<PolicyAuditStore>();
        services.AddSingleton<FilePolicyProvider>();
        services.AddSingleton<IPolicyProvider>(sp => sp.GetRequiredService<FilePolicyProvider>());
        services.AddHostedService(sp => sp.GetRequiredService<FilePolicyProvider>());
        services.AddHealthChecks().AddCheck<PolicyHealthCheck>("policy", tags: ["ready"]);
        return services;
    }
}

internal sealed class PolicyHealthCheck(FilePolicyProvider provider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(provider.IsLoaded
            ? HealthCheckResult.Healthy($"version {provider.Current.Version}")
            : HealthCheckResult.Unhealthy("the routing policy is not loaded"));
}
