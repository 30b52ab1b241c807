using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Classification;

public static class ClassificationServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayClassification(this IServiceCollection services)
    {
        services.AddOptions<ClassifierOptions>().BindConfiguration(ClassifierOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OnnxPromptClassifier>();
        services.AddSingleton<IPromptClassifier>(sp => sp.GetRequiredService<OnnxPromptClassifier>());
        services.AddHostedService(sp => sp.GetRequiredService<OnnxPromptClassifier>());
        services.AddHealthChecks().AddCheck<ClassifierHealthCheck>("classifier", tags: ["ready"]);
        return services;
    }
}

internal sealed class ClassifierHealthCheck(OnnxPromptClassifier classifier) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(classifier.ModelVersion is { } version
            ? HealthCheckResult.Healthy($"model {version}")
            : HealthCheckResult.Unhealthy("the classifier model is not loaded"));
}
