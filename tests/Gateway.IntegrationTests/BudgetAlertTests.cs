using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.Spend;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests;

/// <summary>Budget alerts before the cliff: each threshold fires once per period, signed, retried, to a real webhook receiver on loopback.</summary>
public sealed class BudgetAlertTests : IAsyncLifetime
{
    private const string Secret = "alert-signing-secret-0123456789abcdef";

    // $0.00575 a request (the imitation provider's usage at these prices) against $0.01 a day.
    private const string Policy = """
        default_route: frontier
        reference_route: frontier
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00, cached_input_per_mtok: 1.25 }
        budgets:
          research: { daily_usd: 0.01, on_exceed: downgrade, alert_at: [0.5, 1.0] }
        """;

    private FakeOpenAiUpstream _upstream = null!;
    private WebApplication _receiver = null!;
    private GatewayHost _gateway = null!;
    private readonly ConcurrentQueue<(string Body, string? Timestamp, string? Signature)> _delivered = new();
    private int _attempts;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext http) =>
        {
            var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
            // The first delivery attempt fails: the gateway must retry it.
            if (Interlocked.Increment(ref _attempts) == 1)
            {
                return Results.StatusCode(503);
            }

            _delivered.Enqueue((body, http.Request.Headers["x-gateway-timestamp"], http.Request.Headers["x-gateway-signature"]));
            return Results.Ok();
        });
        await _receiver.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, Policy, new Dictionary<string, string?>
        {
            ["Ledger:Durability"] = "sync",
            ["Alerts:WebhookUrl"] = _receiver.Urls.Single() + "/hook",
            ["Alerts:Secret"] = Secret,
            ["Alerts:RetryDelay"] = "00:00:00.050",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _receiver.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task Chat()
    {
        using var response = await _gateway.Client.PostAsJsonAsync("/v1/chat/completions", new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task EachThreshold_FiresOncePerPeriod_SignedAndRetried()
    {
        for (var i = 0; i < 4; i++)
        {
            await Chat(); // $0.00575, $0.0115 (crosses 50% then 100%), then more spend past both
        }

        for (var deadline = DateTime.UtcNow.AddSeconds(10); _delivered.Count < 2 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(50);
        }

        await Task.Delay(500); // nothing more arrives
        var alerts = _delivered.ToArray();
        Assert.Equal(2, alerts.Length);
        Assert.Equal(3, _attempts); // one failed attempt, retried, then the second alert

        var bodies = alerts.Select(a => JsonNode.Parse(a.Body)!).OrderBy(a => a["threshold"]!.GetValue<decimal>()).ToArray();
        Assert.Equal([0.5m, 1.0m], bodies.Select(b => b["threshold"]!.GetValue<decimal>()));
        Assert.All(bodies, b =>
        {
            Assert.Equal("budget.threshold", b["type"]!.GetValue<string>());
            Assert.Equal("research", b["team"]!.GetValue<string>());
            Assert.Equal("daily", b["period"]!.GetValue<string>());
            Assert.Equal(0.01m, b["limit_usd"]!.GetValue<decimal>());
            Assert.Equal("downgrade", b["on_exceed"]!.GetValue<string>());
        });
        Assert.Equal(0.00575m, bodies[0]["spent_usd"]!.GetValue<decimal>());
        Assert.Equal(0.0115m, bodies[1]["spent_usd"]!.GetValue<decimal>());
        Assert.All(alerts, a => Assert.Equal("sha256=" + BudgetAlerts.Sign(Secret, a.Timestamp!, a.Body), a.Signature));

        var metrics = await _gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("gateway_budget_alerts_total{team=\"research\",period=\"daily\",threshold=\"0.5\",delivery=\"sent\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gateway_budget_alerts_total{team=\"research\",period=\"daily\",threshold=\"1.0\",delivery=\"sent\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARestartedGateway_DoesNotFireAgainInTheSamePeriod()
    {
        await Chat();
        for (var deadline = DateTime.UtcNow.AddSeconds(10); _delivered.IsEmpty && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(50);
        }

        Assert.Single(_delivered);

        // A second gateway on the same database (a replica, or this one restarted) sees the same spend cross 50% again.
        await using var replica = await GatewayHost.StartAsync(_upstream.BaseUrl, Policy, new Dictionary<string, string?>
        {
            ["Ledger:ConnectionString"] = $"Data Source={Path.Combine(Path.GetDirectoryName(_gateway.PolicyPath)!, "gateway.db")}",
            ["Alerts:WebhookUrl"] = _receiver.Urls.Single() + "/hook",
            ["Alerts:Secret"] = Secret,
        });
        var alerts = replica.Services.GetService(typeof(BudgetAlerts)) as BudgetAlerts;
        var budget = new Gateway.Policies.TeamBudget("research", 0.01m, null, Gateway.Policies.BudgetAction.Downgrade, null) { AlertAt = [0.5m] };
        alerts!.Crossed(budget, "daily", 0.01m, 0, 0.006m, DateTime.UtcNow);
        await Task.Delay(1000);

        Assert.Single(_delivered);
    }
}
