using Gateway.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>
/// Budgets and rate limits across three replicas sharing one database and one Redis (a real redis-server): they hold
/// for the whole fleet, not per replica; without Redis the same traffic overspends; a lost Redis never answers 500.
/// </summary>
public sealed class SharedStateTests : IAsyncLifetime
{
    // Output only, $10 per million: 300 tokens cost exactly what max_tokens 300 estimates ($0.003).
    private static string Policy(string team) => $$"""
        default_route: frontier
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 0, output_per_mtok: 10.00 }
        budgets:
          {{team}}: { daily_usd: 0.0301, on_exceed: reject }
        """;

    private FakeOpenAiUpstream _upstream = null!;
    private RedisServer _redis = null!;
    private readonly List<GatewayHost> _gateways = [];
    private readonly List<string> _folders = [];

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
        foreach (var folder in _folders)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Three replicas started at the same moment on one fresh database (and Redis, when given).</summary>
    private async Task<GatewayHost[]> Replicas(string team, string? redis, params (string Key, string Value)[] extra) =>
        await Replicas(team, team, redis, extra);

    private async Task<GatewayHost[]> Replicas(string team, string budgetTeam, string? redis, params (string Key, string Value)[] extra)
    {
        var folder = TestFolders.Create("replicas-").FullName;
        _folders.Add(folder);
        var settings = new Dictionary<string, string?>
        {
            ["Ledger:ConnectionString"] = $"Data Source={Path.Combine(folder, "gateway.db")}",
            ["Ledger:Durability"] = "sync",
            ["Redis:ConnectionString"] = redis,
            ["Auth:Keys:0:Team"] = team,
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var replicas = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => GatewayHost.StartAsync(_upstream.BaseUrl, Policy(budgetTeam), settings)));
        _gateways.AddRange(replicas);
        return replicas;
    }

    private static async Task<HttpStatusCode> Chat(GatewayHost gateway, string key = GatewayHost.ClientKey)
    {
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        using var response = await client.PostAsJsonAsync(gateway.BaseUrl + "/v1/chat/completions",
            new { model = "auto", max_tokens = 300, messages = new[] { new { role = "user", content = "hi" } } });
        return response.StatusCode;
    }

    /// <summary>Three waves of 24 concurrent requests spread over the replicas; the number admitted.</summary>
    private static async Task<int> Waves(GatewayHost[] replicas)
    {
        var admitted = 0;
        for (var wave = 0; wave < 3; wave++)
        {
            var statuses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Chat(replicas[i % replicas.Length])));
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
            admitted += statuses.Count(s => s == HttpStatusCode.OK);
        }

        return admitted;
    }

    [Fact]
    public async Task ARejectBudget_HoldsAcrossThreeReplicas_WithRedis_AndLeaksWithout()
    {
        // $0.0301 at $0.003 a request: 10 fit, and the eleventh starts while $0.030 is spent.
        var shared = await Waves(await Replicas("fleet", _redis.ConnectionString));
        var perProcess = await Waves(await Replicas("solo", redis: null));

        Assert.InRange(shared, 10, 11);
        Assert.True(perProcess > shared + 5, $"without Redis {perProcess} were admitted, with it {shared}");
    }

    [Fact]
    public async Task RequestsPerMinute_HoldAcrossThreeReplicas_WithRedis()
    {
        var replicas = await Replicas("rpm", budgetTeam: "nobody", _redis.ConnectionString);
        using var admin = replicas[0].AdminClient();
        using var created = await admin.PostAsync("/admin/keys", new StringContent("""{"name":"fleet-app","team":"rpm","rpm_limit":30}""", Encoding.UTF8, "application/json"));
        var key = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
        await Task.Delay(1500); // every replica has loaded the key

        var admitted = 0;
        for (var i = 0; i < 60; i++)
        {
            admitted += await Chat(replicas[i % 3], key) == HttpStatusCode.OK ? 1 : 0;
        }

        // 30 a minute, refilled at one every 2 s while the loop runs: within 5% of the limit, not 3× it.
        Assert.InRange(admitted, 30, 32);
    }

    [Fact]
    public async Task TokensPerMinute_SettleAcrossReplicas_WithRedis()
    {
        var replicas = await Replicas("tpm", budgetTeam: "nobody", _redis.ConnectionString);
        using var admin = replicas[0].AdminClient();
        using var created = await admin.PostAsync("/admin/keys", new StringContent("""{"name":"fleet-tokens","team":"tpm","tpm_limit":2000}""", Encoding.UTF8, "application/json"));
        var key = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
        await Task.Delay(1500); // every replica has loaded the key

        // Each answer reports 1,500 tokens against a ~310-token estimate: after two (on two replicas) the third replica refuses.
        Assert.Equal(HttpStatusCode.OK, await Chat(replicas[0], key));
        Assert.Equal(HttpStatusCode.OK, await Chat(replicas[1], key));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Chat(replicas[2], key));
    }

    [Fact]
    public async Task AResponsesFollowUp_OnAnotherReplica_ReachesTheUpstreamThatCreatedIt()
    {
        await using var second = await FakeOpenAiUpstream.StartAsync();
        const string policy = """
            default_route: frontier
            routes:
              frontier: { kind: hosted, upstream: fake, model: big-model, price: { input_per_mtok: 2.5, output_per_mtok: 10 } }
              other: { kind: hosted, upstream: fake2, model: other-model, price: { input_per_mtok: 1, output_per_mtok: 4 } }
            """;
        var settings = new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = _redis.ConnectionString,
            ["Upstreams:fake2:BaseUrl"] = second.BaseUrl,
            ["Upstreams:fake2:ApiKey"] = "sk-second-provider",
        };
        var replicas = await Task.WhenAll(GatewayHost.StartAsync(_upstream.BaseUrl, policy, settings), GatewayHost.StartAsync(_upstream.BaseUrl, policy, settings));
        _gateways.AddRange(replicas);

        using var created = await replicas[0].Client.PostAsJsonAsync("/v1/responses", new { model = "other", input = "Remember 7." });
        var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        await Task.Delay(200); // the id reaches Redis (written after the response)

        using var followUp = await replicas[1].Client.PostAsJsonAsync("/v1/responses", new { model = "auto", input = "Which?", previous_response_id = id });
        using var stored = await replicas[1].Client.GetAsync($"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.OK, followUp.StatusCode);
        Assert.Equal("other", followUp.Headers.GetValues("x-gateway-route").Single());
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(3, second.Received.Count);
        Assert.DoesNotContain(_upstream.Received, r => r.Path.StartsWith("/v1/responses", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LostRedis_FailsOpenToLocalCounters_OrClosedWith503_NeverA500(bool failOpen)
    {
        var nowhere = $"127.0.0.1:{RedisServer.FreePort()},connectTimeout=200";
        var replicas = await Replicas("lost", nowhere, ("Redis:FailOpen", failOpen ? "true" : "false"));

        var status = await Chat(replicas[0]);

        Assert.Equal(failOpen ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, status);
        var metrics = await replicas[0].Client.GetStringAsync("/metrics");
        Assert.Contains("gateway_shared_state_errors_total{operation=\"budget_", metrics, StringComparison.Ordinal);
    }
}
