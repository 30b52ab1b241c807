using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>Per-key requests and tokens per minute over HTTP: enforced before the upstream, with OpenAI's headers.</summary>
public sealed class RateLimitTests : GatewayWithUpstream
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Ledger:Durability"] = "sync" };

    private async Task<string> CreateKey(string limits)
    {
        using var admin = Gateway.AdminClient();
        using var response = await admin.PostAsync("/admin/keys", new StringContent($$"""{"name":"limited","team":"research",{{limits}}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
    }

    private async Task<HttpResponseMessage> Chat(string key, int maxTokens = 100)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "auto", max_tokens = maxTokens, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.Authorization = new("Bearer", key);
        return await Gateway.Client.SendAsync(request);
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();

    [Fact]
    public async Task RequestsPerMinute_AreCountedDown_ThenA429WithRetryAfter_BeforeTheUpstreamIsCalled()
    {
        var key = await CreateKey("\"rpm_limit\":3");

        for (var remaining = 2; remaining >= 0; remaining--)
        {
            using var ok = await Chat(key);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", Header(ok, "x-ratelimit-limit-requests"));
            Assert.Equal(remaining.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(ok, "x-ratelimit-remaining-requests"));
            Assert.EndsWith("s", Header(ok, "x-ratelimit-reset-requests"), StringComparison.Ordinal);
        }

        using var refused = await Chat(key);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(int.Parse(Header(refused, "retry-after"), System.Globalization.CultureInfo.InvariantCulture), 1, 20);
        var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.Equal("requests", error["type"]!.GetValue<string>());
        Assert.Equal(3, Upstream.Received.Count);

        // The refusal is on the ledger like every other request.
        using var admin = Gateway.AdminClient();
        var statuses = JsonNode.Parse(await admin.GetStringAsync("/admin/spend?group_by=status"))!["rows"]!.AsArray()
            .ToDictionary(r => r!["group"]!["status"]!.GetValue<string>(), r => r!["requests"]!.GetValue<long>());
        Assert.Equal(1, statuses["429"]);
        Assert.Equal(3, statuses["200"]);
    }

    [Fact]
    public async Task TokensPerMinute_SettleToTheReportedUsage()
    {
        // The imitation provider reports 1,500 tokens per answer; the estimate is ~120.
        var key = await CreateKey("\"tpm_limit\":2000");

        using var first = await Chat(key);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("2000", Header(first, "x-ratelimit-limit-tokens"));
        Assert.InRange(long.Parse(Header(first, "x-ratelimit-remaining-tokens"), System.Globalization.CultureInfo.InvariantCulture), 1800, 1900);

        using var second = await Chat(key);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        // 2,000 - 1,500 settled from the first, minus this one's estimate.
        Assert.InRange(long.Parse(Header(second, "x-ratelimit-remaining-tokens"), System.Globalization.CultureInfo.InvariantCulture), 300, 400);

        using var third = await Chat(key);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("tokens", JsonNode.Parse(await third.Content.ReadAsStringAsync())!["error"]!["type"]!.GetValue<string>());
        Assert.Equal(2, Upstream.Received.Count);
    }

    [Fact]
    public async Task TheGatewaysLimits_ReplaceTheProvidersHeaders_OnlyForLimitedKeys()
    {
        Upstream.Handler = async (context, received) =>
        {
            context.Response.Headers["x-ratelimit-limit-requests"] = "10000";
            context.Response.Headers["x-ratelimit-remaining-requests"] = "9999";
            await FakeOpenAiUpstream.WriteJsonAsync(context, FakeOpenAiUpstream.ChatBody(received.Json["model"]!.GetValue<string>()));
        };
        var key = await CreateKey("\"rpm_limit\":5");

        using var limited = await Chat(key);
        using var unlimited = await Chat(GatewayHost.ClientKey);

        Assert.Equal("5", Header(limited, "x-ratelimit-limit-requests"));
        Assert.Equal("4", Header(limited, "x-ratelimit-remaining-requests"));
        Assert.Equal("10000", Header(unlimited, "x-ratelimit-limit-requests"));
    }
    [Fact]
    public async Task ATeamsLimitInThePolicy_CoversAllItsKeys_AndAValidationErrorNamesItsPath()
    {
        await using var gateway = await GatewayHost.StartAsync(Upstream.BaseUrl, GatewayHost.DefaultPolicy + """

            rate_limits:
              research: { rpm: 3 }
            """, Settings);
        using var admin = gateway.AdminClient();
        using var created = await admin.PostAsync("/admin/keys", new StringContent("""{"name":"second-app","team":"research"}""", Encoding.UTF8, "application/json"));
        var second = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
        async Task<HttpResponseMessage> Send(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, gateway.BaseUrl + "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } }),
            };
            request.Headers.Authorization = new("Bearer", key);
            return await gateway.Client.SendAsync(request);
        }

        foreach (var key in new[] { GatewayHost.ClientKey, second, GatewayHost.ClientKey })
        {
            using var ok = await Send(key);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await Send(second);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("team 'research'", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        using var otherTeam = await Send(GatewayHost.OtherTeamKey);
        Assert.Equal(HttpStatusCode.OK, otherTeam.StatusCode);

        using var invalid = await admin.PostAsync("/admin/policy/validate", new StringContent(GatewayHost.DefaultPolicy + "\nrate_limits:\n  research: { rpm: 0 }\n", Encoding.UTF8, "application/yaml"));
        Assert.Contains("rate_limits.research.rpm: must be between 1 and 1,000,000", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
