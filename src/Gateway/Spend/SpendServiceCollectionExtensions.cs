namespace Gateway.Spend;

public static class SpendServiceCollectionExtensions
{
    public static IServiceCollection AddGatewaySpend(this IServiceCollection services)
    {
        services.AddSingleton<BudgetTracker>();
        services.AddSingleton<ISpendRecorder, MetricsSpendRecorder>();
        return services;
    }
}
