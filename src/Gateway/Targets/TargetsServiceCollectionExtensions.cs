using Gateway.Policies;
using Gateway.Targets.Hosted;
using Gateway.Targets.Local;
using Microsoft.Extensions.Options;

namespace Gateway.Targets;

public static class TargetsServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayTargets(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        services.AddSingleton<IConfigureOptions<UpstreamsOptions>, UpstreamsOptionsSetup>();
        services.AddSingleton<IValidateOptions<UpstreamsOptions>, UpstreamsOptionsValidation>();
        services.AddOptions<UpstreamsOptions>().ValidateOnStart();
        services.AddSingleton<UpstreamRegistry>();
        services.AddSingleton<HostedRouteTarget>();
        services.AddSingleton<IRouteTarget>(sp => sp.GetRequiredService<HostedRouteTarget>());
        services.AddSingleton<StoredResponses>();
        services.AddOptions<Dictionary<string, LocalModelOptions>>().BindConfiguration(LocalModelOptions.Section)
            .Validate(models => models.Values.All(m => !string.IsNullOrWhiteSpace(m.Path)), "every LocalModels:<name> needs a Path (a GGUF file)")
            .ValidateOnStart();
        services.AddSingleton<LocalModelHost>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalModelHost>());
        services.AddSingleton<LocalRouteTarget>();
        services.AddSingleton<IRouteTarget>(sp => sp.GetRequiredService<LocalRouteTarget>());
        services.AddSingleton<IRouteTarget, AdapterRouteTarget>();
        services.AddSingleton<IPolicyEnvironment, TargetsPolicyEnvironment>();
        return services;
    }
}
