using Gateway.Policies;
using Microsoft.Extensions.Options;

namespace Gateway.Targets.Hosted;

public static class HostedRoutesServiceCollectionExtensions
{
    /// <summary><c>kind: hosted</c>: the upstreams, the YARP forwarding target, stored Responses and the policy-side kind.</summary>
    public static IServiceCollection AddHostedRoutes(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        services.AddSingleton<IConfigureOptions<UpstreamsOptions>, UpstreamsOptionsSetup>();
        services.AddSingleton<IValidateOptions<UpstreamsOptions>, UpstreamsOptionsValidation>();
        services.AddOptions<UpstreamsOptions>().ValidateOnStart();
        services.AddSingleton<UpstreamRegistry>();
        services.AddSingleton<HostedRouteTarget>();
        services.AddSingleton<IRouteTarget>(sp => sp.GetRequiredService<HostedRouteTarget>());
        services.AddSingleton<IRouteKind>(sp => new HostedRouteKind(sp.GetRequiredService<UpstreamRegistry>().Names));
        services.AddSingleton<StoredResponses>();
        return services;
    }
}
