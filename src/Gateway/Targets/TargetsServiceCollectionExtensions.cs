using Gateway.Policies;
using Gateway.Targets.Hosted;
using Gateway.Targets.Local;

namespace Gateway.Targets;

public static class TargetsServiceCollectionExtensions
{
    /// <summary>
    /// Every strategy folder registers its <see cref="IRouteTarget"/> and its <see cref="IRouteKind"/>; policies learn the
    /// kinds from what is registered. Adding a strategy is adding a folder and one line here.
    /// </summary>
    public static IServiceCollection AddGatewayTargets(this IServiceCollection services)
    {
        services.AddHostedRoutes();
        services.AddLocalRoutes();
        services.AddSingleton<IPolicyEnvironment, RouteKindsEnvironment>();
        return services;
    }
}
