using Gateway.Hosting;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Spend;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.IntegrationTests;

/// <summary>
/// A finished request's cost takes the place of its hold in one step, on this process's counters and on Redis's (a real
/// redis-server): a concurrent request sees it in flight or spent, never both (refused with budget left) and never
/// neither (admitted past the limit); disposing a settled lease releases nothing more.
/// </summary>
public sealed class BudgetLeaseTests : IAsyncLifetime
{
    private static readonly RoutingPolicy Policy = new PolicyLoader(new StubPolicyEnvironment(["openai"]), TimeProvider.System).Load("""
        default_route: frontier
        routes:
          frontier: { kind: hosted, upstream: openai, model: gpt-4o, price: { input_per_mtok: 2.5, output_per_mtok: 10 } }
        """).Policy!;

    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARecordedCost_ReplacesItsHold_InOneStep(bool redis)
    {
        var metrics = new Telemetry.GatewayMetrics();
        using var shared = new SharedState(Options.Create(new RedisOptions { ConnectionString = redis ? _redis.ConnectionString : null, Timeout = TimeSpan.FromSeconds(5) }),
            metrics, NullLogger<SharedState>.Instance);
        var gate = new BudgetGate(new BudgetTracker(TimeProvider.System), shared, TimeProvider.System);
        var keyId = $"key-{redis}";
        // Room for two $0.003 requests in flight, and a third once one of them has finished.
        var budget = TeamBudget.ForKey(keyId, 0.0061m, null, BudgetAction.Reject, null);
        Task<BudgetLease?> Lease() => gate.LeaseAsync(Policy, "no-budget-team", 0.003m, budget).AsTask();

        using var first = await Lease();
        using var second = await Lease();
        gate.Recorded("no-budget-team", 0.003m, DateTimeOffset.UtcNow, keyId: keyId, keyBudget: budget, lease: first);

        var settled = await gate.StateAsync(budget, exact: true);
        Assert.Equal((0.003m, 0.003m), (settled.Day, settled.InFlight));
        using var third = await Lease();

        first!.Dispose();
        var full = await gate.StateAsync(budget, exact: true);
        Assert.Equal((0.003m, 0.006m), (full.Day, full.InFlight));
        var refused = await Assert.ThrowsAsync<OpenAiException>(Lease);
        Assert.Equal("budget_exceeded", refused.Code);

        // The settle's reply (the totals the budget's alerts are judged on) was read without a Redis error.
        await Task.Delay(200);
        using var exported = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(exported);
        var errors = System.Text.Encoding.UTF8.GetString(exported.ToArray()).Split('\n')
            .Where(line => line.StartsWith(Telemetry.GatewayMetrics.Names.SharedStateErrors + "{", StringComparison.Ordinal));
        Assert.Empty(errors);
    }
}
