using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>Who and what a request was for: OpenAI's <c>user</c>, <c>metadata</c> and <c>x-gateway-tags</c> on the ledger, reported and filtered.</summary>
public sealed class AttributionTests : GatewayWithUpstream
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Ledger:Durability"] = "sync" };

    private async Task<HttpResponseMessage> Chat(string? user, string? tags, object? metadata = null, string key = GatewayHost.ClientKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new Dictionary<string, object?>
            {
                ["model"] = "auto",
                ["messages"] = new[] { new { role = "user", content = "hi" } },
                ["user"] = user,
                ["metadata"] = metadata,
            }),
        };
        request.Headers.Authorization = new("Bearer", key);
        if (tags is not null)
        {
            request.Headers.Add("x-gateway-tags", tags);
        }

        return await Gateway.Client.SendAsync(request);
    }

    private async Task<JsonNode> Spend(string query)
    {
        using var admin = Gateway.AdminClient();
        return JsonNode.Parse(await admin.GetStringAsync("/admin/spend?" + query))!;
    }

    [Fact]
    public async Task UserAndTags_AreOnTheLedger_AndReportsGroupAndFilterByThem()
    {
        (await Chat("alice", "checkout, experiment-7", new { ticket = "T-1" })).Dispose();
        (await Chat("alice", "checkout")).Dispose();
        (await Chat("bob", "search")).Dispose();
        (await Chat(null, null, key: GatewayHost.OtherTeamKey)).Dispose();

        var byUser = (await Spend("group_by=user"))["rows"]!.AsArray()
            .ToDictionary(r => r!["group"]!["user"]!.GetValue<string>(), r => r!["requests"]!.GetValue<long>());
        Assert.Equal(new Dictionary<string, long> { [""] = 1, ["alice"] = 2, ["bob"] = 1 }, byUser);

        var checkout = (await Spend("group_by=&tag=checkout"))["total"]!;
        Assert.Equal(2, checkout["requests"]!.GetValue<long>());
        Assert.Equal(2 * 0.00575m, checkout["cost_usd"]!.GetValue<decimal>());
        Assert.Equal(1, (await Spend("group_by=&tag=experiment-7"))["total"]!["requests"]!.GetValue<long>());
        Assert.Equal(0, (await Spend("group_by=&tag=check"))["total"]!["requests"]!.GetValue<long>());

        var sets = (await Spend("group_by=tags"))["rows"]!.AsArray().Select(r => r!["group"]!["tags"]!.GetValue<string>()).ToArray();
        Assert.Equal(["", "checkout", "checkout,experiment-7", "search"], sets);

        var byKey = (await Spend("group_by=key&user=alice"))["rows"]!.AsArray().Single()!;
        Assert.Equal("research-ci", byKey["group"]!["key"]!.GetValue<string>());
        Assert.Equal(2, byKey["requests"]!.GetValue<long>());

        var metrics = await Gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("gateway_key_requests_total{team=\"research\",key=\"research-ci\",status=\"2xx\"} 3", metrics, StringComparison.Ordinal);
        Assert.Contains("gateway_key_spend_usd_total{team=\"research\",key=\"research-ci\"} 0.01725", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("a,b,c,d,e,f,g,h,i,j,k")]
    [InlineData("semi;colon")]
    public async Task MalformedTags_AreA400NamingTheHeader(string tags)
    {
        using var response = await Chat("alice", tags);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("x-gateway-tags", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task MetadataBeyondOpenAisLimits_IsA400()
    {
        using var response = await Chat("alice", null, Enumerable.Range(0, 17).ToDictionary(i => $"k{i}", i => "v"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("metadata", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
    }
}
