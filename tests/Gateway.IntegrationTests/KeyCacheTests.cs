using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>The per-connection key cache never lets one request's key stand in for another's.</summary>
public sealed class KeyCacheTests : GatewayWithUpstream
{
    [Fact]
    public async Task OneConnection_SwitchingKeys_EachRequestIsJudgedByItsOwnKey()
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(Gateway.BaseUrl) };
        async Task<HttpStatusCode> Send(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } }),
            };
            request.Headers.Authorization = new("Bearer", key);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Send(GatewayHost.ClientKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(GatewayHost.ClientKey + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(GatewayHost.ClientKey[..^1]));
        Assert.Equal(HttpStatusCode.OK, await Send(GatewayHost.OtherTeamKey));
        Assert.Equal(HttpStatusCode.OK, await Send(GatewayHost.ClientKey));

        using var admin = Gateway.AdminClient();
        JsonNode report;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        do
        {
            await Task.Delay(100);
            report = JsonNode.Parse(await admin.GetStringAsync("/admin/spend?group_by=team"))!;
        }
        while (report["total"]!["requests"]!.GetValue<long>() < 3 && DateTime.UtcNow < deadline);

        var teams = report["rows"]!.AsArray().ToDictionary(r => r!["group"]!["team"]!.GetValue<string>(), r => r!["requests"]!.GetValue<long>());
        Assert.Equal(2, teams["research"]);
        Assert.Equal(1, teams["support"]);
    }
}
