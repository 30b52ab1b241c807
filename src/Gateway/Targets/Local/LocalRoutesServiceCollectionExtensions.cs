using Gateway.Policies;
using Gateway.Targets.Hosted;

namespace Gateway.Targets.Local;

public static class LocalRoutesServiceCollectionExtensions
{
    /// <summary>
    /// <c>kind: local</c> and <c>kind: adapter</c>: the in-process models, their targets and their policy-side kinds. An
    /// adapter served by a provider is forwarded by the hosted target, so this needs <see cref="HostedRoutesServiceCollectionExtensions.AddHostedRoutes"/>.
    /// </summary>
    public static IServiceCollection AddLocalRoutes(this IServiceCollection services)
    {
        services.AddOptions<Dictionary<string, LocalModelOptions>>().BindConfiguration(LocalModelOptions.Section)
            .Validate(models => models.Values.All(m => !string.IsNullOrWhiteSpace(m.Path)), "every LocalModels:<name> needs a Path (a GGUF file)")
            .ValidateOnStart();
        services.AddSingleton<LocalModelHost>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalModelHost>());
        services.AddSingleton<LocalRouteTarget>();
        services.AddSingleton<IRouteTarget>(sp => sp.GetRequiredService<LocalRouteTarget>());
        services.AddSingleton<IRouteTarget, AdapterRouteTarget>();
        services.AddSingleton<IAdapterFiles, AdapterFiles>();
        services.AddSingleton<IRouteKind>(sp => new LocalRouteKind(sp.GetRequiredService<LocalModelHost>().Names));
        services.AddSingleton<IRouteKind>(sp => new AdapterRouteKind(sp.GetRequiredService<LocalModelHost>().Names,
            sp.GetRequiredService<UpstreamRegistry>().Names, sp.GetRequiredService<IAdapterFiles>()));
        return services;
    }
}
