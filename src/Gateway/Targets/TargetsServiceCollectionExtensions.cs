using Gateway.Policies;
using Gateway.Targets.Hosted;
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
        services.AddSingleton<IRouteTarget, HostedRouteTarget>();
        services.AddSingleton<IPolicyEnvironment, TargetsPolicyEnvironment>();
        return services;
    }
}
