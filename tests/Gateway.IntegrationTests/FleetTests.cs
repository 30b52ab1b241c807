using Gateway.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>
/// The deployment docker-compose describes, on loopback: three gateway processes started at the same moment on an
/// empty PostgreSQL database, sharing it and one Redis (a real redis-server). All come up (the schema is created once,
/// under the database's lock); keys, budgets and rate limits hold for the fleet, not per process.
/// </summary>
public sealed class FleetTests : IAsyncLifetime
{
    private const string AdminKey = "fleet-admin-key-0000000001";
    private const string ClientKey = "sk-fleet-client-key-000001";

    // Output only, $10 per million: 300 tokens cost exactly what max_tokens 300 estimates ($0.003).
    private const string Policy = """
        default_route: frontier
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 0, output_per_mtok: 10.00 }
        budgets:
          fleet: { daily_usd: 0.0301, on_exceed: reject }
        """;

    private FakeOpenAiUpstream _upstream = null!;
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private static async Task<HttpStatusCode> Chat(GatewayProcess gateway, string key)
    {
        using var client = gateway.Client(key);
        using var response = await client.PostAsJsonAsync("/v1/chat/completions",
            new { model = "auto", max_tokens = 300, messages = new[] { new { role = "user", content = "hi" } } });
        return response.StatusCode;
    }

    private static async Task Eventually(Func<Task<bool>> condition, string failure)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), failure);
            await Task.Delay(50);
        }
    }

    [SkippableFact]
    public async Task ThreeProcesses_OnAnEmptyPostgresAndOneRedis_ComeUpTogether_AndShareKeysBudgetsAndLimits()
    {
        Skip.If(TestPostgres.Server is null, $"{TestPostgres.Variable} is not set: PostgreSQL cases need a server (bash .ci/run starts one).");
        await using var postgres = await TestPostgres.CreateAsync(TestPostgres.Server!);
        var policies = TestFolders.Create("fleet-policy-").FullName;
        await File.WriteAllTextAsync(Path.Combine(policies, "routing.yaml"), Policy);
        var settings = new Dictionary<string, string?>
        {
            ["Policies:Path"] = policies,
            ["Ledger:Provider"] = "postgres",
            ["Ledger:ConnectionString"] = postgres.ConnectionString,
            ["Ledger:Durability"] = "sync",
            ["Redis:ConnectionString"] = _redis.ConnectionString,
            ["Upstreams:fake:BaseUrl"] = _upstream.BaseUrl,
            ["Upstreams:fake:ApiKey"] = "sk-provider-secret-key",
            ["Auth:AdminKey"] = AdminKey,
            ["Auth:Keys:0:Key"] = ClientKey,
            ["Auth:Keys:0:Team"] = "fleet",
            ["Auth:Keys:0:Name"] = "fleet-ci",
        };

        var started = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => GatewayProcess.StartAsync(settings)));
        try
        {
            var (a, b, c) = (started[0], started[1], started[2]);
            foreach (var replica in started)
            {
                using var status = replica.Client(AdminKey);
                var schema = JsonNode.Parse(await status.GetStringAsync("/admin/status"))!["schema"]!;
                Assert.Equal(global::Gateway.Hosting.GatewaySchema.Latest, schema["version"]!.GetValue<int>());
            }

            // A key created on A works on B and C at once; with a 30-RPM limit, sixty requests spread over the three admit 30–32.
            using var adminA = a.Client(AdminKey);
            using var created = await adminA.PostAsync("/admin/keys", new StringContent("""{"name":"fleet-app","team":"fleet-rpm","rpm_limit":30}""", Encoding.UTF8, "application/json"));
            var key = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
            var secret = key["key"]!.GetValue<string>();
            Assert.Equal(HttpStatusCode.OK, await Chat(b, secret));
            Assert.Equal(HttpStatusCode.OK, await Chat(c, secret));
            var admitted = 2;
            for (var i = 0; i < 58; i++)
            {
                admitted += await Chat(started[i % 3], secret) == HttpStatusCode.OK ? 1 : 0;
            }

            Assert.InRange(admitted, 30, 32);

            // 64 concurrent clients over the three against a $0.0301 team budget at $0.003 a request: 10 fit, the 11th may
            // start while $0.030 is spent; no process admits its own share.
            var statuses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Chat(started[i % 3], ClientKey)));
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
            Assert.InRange(statuses.Count(s => s == HttpStatusCode.OK), 10, 11);

            // A key's own budget holds for the fleet too (its team has none).
            using var cappedResponse = await adminA.PostAsync("/admin/keys",
                new StringContent("""{"name":"fleet-capped","team":"fleet-keys","budget":{"daily_usd":0.0301}}""", Encoding.UTF8, "application/json"));
            var capped = JsonNode.Parse(await cappedResponse.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
            var cappedStatuses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Chat(started[i % 3], capped)));
            Assert.All(cappedStatuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
            Assert.InRange(cappedStatuses.Count(s => s == HttpStatusCode.OK), 10, 11);

            // Every admitted request is on the one ledger, once: $0.003 each.
            using var spend = await adminA.GetAsync("/admin/spend?group_by=key");
            var rows = JsonNode.Parse(await spend.Content.ReadAsStringAsync())!["rows"]!.AsArray();
            decimal Spent(string name) => rows.Where(r => r!["group"]!["key"]!.GetValue<string>() == name).Sum(r => r!["cost_usd"]!.GetValue<decimal>());
            Assert.Equal(statuses.Count(s => s == HttpStatusCode.OK) * 0.003m, Spent("fleet-ci"));
            Assert.Equal(cappedStatuses.Count(s => s == HttpStatusCode.OK) * 0.003m, Spent("fleet-capped"));

            // Revoked on A: refused on B and C within 2 s.
            using var revoked = await adminA.DeleteAsync($"/admin/keys/{key["id"]}");
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
            await Eventually(async () => await Chat(b, secret) == HttpStatusCode.Unauthorized && await Chat(c, secret) == HttpStatusCode.Unauthorized,
                "the revocation did not reach processes B and C within 2 s");
        }
        finally
        {
            foreach (var replica in started)
            {
                await replica.DisposeAsync();
            }
        }
    }
}
