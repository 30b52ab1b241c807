using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.Policies;
using Microsoft.Extensions.Options;

namespace Gateway.IntegrationTests;

public sealed class StartupTests
{
    [Fact]
    public async Task InvalidPolicy_StopsStartUpWithEveryError()
    {
        const string policy = """
            default_route: nope
            routes:
              a: { kind: hosted, upstream: ghost, model: m, price: { input_per_mtok: -1, output_per_mtok: 1 } }
            """;

        var error = await Assert.ThrowsAsync<PolicyLoadException>(() => GatewayHost.StartAsync("http://127.0.0.1:9/v1", policy));

        Assert.Contains("default_route: unknown route 'nope'", error.Errors);
        Assert.Contains("routes.a.price.input_per_mtok: must be >= 0", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("routes.a.upstream: 'ghost' is not configured; set Upstreams:ghost:BaseUrl", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidUpstreamUrl_StopsStartUpNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync("not a url"));
        Assert.Contains("Upstreams:fake:BaseUrl must be an absolute http(s) URL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShortClientKey_StopsStartUpNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync("http://127.0.0.1:9/v1",
            settings: new Dictionary<string, string?> { ["Auth:Keys:0:Key"] = "short" }));
        Assert.Contains("Auth:Keys:0:Key must be at least 16 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsetOptionalClientKey_MeansNoStaticKey_AsDockerComposePassesIt()
    {
        // docker-compose.yml: Auth__Keys__0__Key: ${GATEWAY_CLIENT_KEY:-} and a default team.
        await using var gateway = await GatewayHost.StartAsync("http://127.0.0.1:9/v1", clientKeys: false,
            settings: new Dictionary<string, string?> { ["Auth:Keys:0:Key"] = "", ["Auth:Keys:0:Team"] = "default" });
        using var admin = gateway.AdminClient();

        var status = JsonNode.Parse(await admin.GetStringAsync("/admin/status"))!;

        Assert.Equal(0, status["client_keys"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task NoClientKeys_RequestsAreRefusedWithInstructions()
    {
        await using var gateway = await GatewayHost.StartAsync("http://127.0.0.1:9/v1", clientKeys: false);

        using var response = await gateway.Client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("Auth__Keys__0__Key", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsKey_WhenSet_GuardsMetrics_AndAcceptsTheAdminKeyToo()
    {
        const string metricsKey = "sk-metrics-scrape-key-0001";
        await using var gateway = await GatewayHost.StartAsync("http://127.0.0.1:9/v1",
            settings: new Dictionary<string, string?> { ["Auth:MetricsKey"] = metricsKey });
        using var anonymous = new HttpClient { BaseAddress = new Uri(gateway.BaseUrl) };
        using var scraper = new HttpClient { BaseAddress = new Uri(gateway.BaseUrl) };
        scraper.DefaultRequestHeaders.Authorization = new("Bearer", metricsKey);
        using var admin = gateway.AdminClient();

        using var none = await anonymous.GetAsync("/metrics");
        using var client = await gateway.Client.GetAsync("/metrics");
        using var scraped = await scraper.GetAsync("/metrics");
        using var byAdmin = await admin.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("missing_api_key", JsonNode.Parse(await none.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, client.StatusCode);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("gateway_", await scraped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task HealthAndReadiness_AnswerWithoutAKey()
    {
        await using var gateway = await GatewayHost.StartAsync("http://127.0.0.1:9/v1");
        using var anonymous = new HttpClient { BaseAddress = new Uri(gateway.BaseUrl) };

        using var health = await anonymous.GetAsync("/healthz");
        using var ready = await anonymous.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["checks"]!["policy"]!.GetValue<string>());
        var policy = gateway.Services.GetService(typeof(IPolicyProvider)) as IPolicyProvider;
        Assert.Equal("frontier", policy!.Current.DefaultRoute.Name);
    }
}
