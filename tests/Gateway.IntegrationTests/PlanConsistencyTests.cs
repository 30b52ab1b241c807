using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>
/// <c>/admin/route/explain</c> and the live path plan through the same code: the same requests, sent both ways,
/// get the same route and model — across categories, pins, headers, teams and a budget that starts to bite.
/// </summary>
public sealed class PlanConsistencyTests : IAsyncLifetime
{
    private const string Policy = """
        default_route: frontier
        reference_route: frontier
        objective: { type: min_cost, quality_floor: 0.8 }
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.5, output_per_mtok: 10 }
            quality: { default: 0.92, math: 0.9 }
          mini:
            kind: hosted
            upstream: fake
            model: small-model
            price: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
            quality: { default: 0.82, chat: 0.9, math: 0.6, coding: 0.75 }
            pinnable_by: [research]
        rules:
          - name: priority-header
            when: { headers: { x-gateway-priority: [high] } }
            then: { quality_floor: 0.9 }
          - name: tools-to-frontier
            when: { tools: true }
            then: { route: frontier }
        budgets:
          support: { daily_usd: 0.004, on_exceed: downgrade, downgrade_to: mini }
        """;

    private FakeOpenAiUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, Policy);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static readonly (string Model, string Prompt, string? Priority, bool Tools)[] Cases =
    [
        ("auto", "hi there, how are you today?", null, false),
        ("auto", "Solve for x: 3x + 7 = 22, then compute x squared.", null, false),
        ("auto", "Write a Python function that merges two sorted lists.", null, false),
        ("auto", "hi there, how are you today?", "high", false),
        ("auto", "Summarise this: the meeting moved to Friday at noon.", null, true),
        ("mini", "Solve for x: 3x + 7 = 22.", null, false),
        ("big-model", "hi", null, false),
    ];

    /// <summary>Every case as chat completions and as a Responses request: both shapes are planned alike.</summary>
    public static TheoryData<string, string, string?, bool, bool> Requests()
    {
        var data = new TheoryData<string, string, string?, bool, bool>();
        foreach (var responses in new[] { false, true })
        {
            foreach (var (model, prompt, priority, tools) in Cases)
            {
                data.Add(model, prompt, priority, tools, responses);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task ExplainAndTheLivePath_ChooseTheSameRouteAndModel(string model, string prompt, string? priority, bool tools, bool responses)
    {
        foreach (var (client, team) in new[] { (_gateway.Client, "research"), (OtherTeam(), "support") })
        {
            // Three rounds: the support team's spend crosses its downgrade budget on the way.
            for (var round = 0; round < 3; round++)
            {
                var body = Body(model, prompt, tools, responses);
                var explained = await Explain(body, team, priority);
                using var live = await Send(client, body, priority, responses);

                if (explained["decision"] is JsonObject decision)
                {
                    Assert.Equal(HttpStatusCode.OK, live.StatusCode);
                    Assert.Equal(decision["route"]!.GetValue<string>(), live.Headers.GetValues("x-gateway-route").Single());
                    Assert.Equal(decision["model"]!.GetValue<string>(), _upstream.LastRequest.Json["model"]!.GetValue<string>());
                }
                else
                {
                    var code = explained["refused"]!["code"]!.GetValue<string>();
                    Assert.Equal(code[..3], ((int)live.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
    }

    private HttpClient OtherTeam()
    {
        var client = new HttpClient { BaseAddress = _gateway.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.OtherTeamKey);
        return client;
    }

    private static JsonObject Body(string model, string prompt, bool tools, bool responses)
    {
        var body = responses
            ? new JsonObject { ["model"] = model, ["instructions"] = "Be brief.", ["input"] = prompt }
            : new JsonObject { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) };
        if (tools)
        {
            body["tools"] = new JsonArray(responses
                ? new JsonObject { ["type"] = "function", ["name"] = "f" }
                : new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f" } });
        }

        return body;
    }

    private async Task<JsonNode> Explain(JsonObject body, string team, string? priority)
    {
        using var admin = _gateway.AdminClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/route/explain?team={team}") { Content = JsonContent.Create(body) };
        if (priority is not null)
        {
            request.Headers.Add("x-gateway-priority", priority);
        }

        using var response = await admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, JsonObject body, string? priority, bool responses)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, responses ? "/v1/responses" : "/v1/chat/completions") { Content = JsonContent.Create(body) };
        if (priority is not null)
        {
            request.Headers.Add("x-gateway-priority", priority);
        }

        return await client.SendAsync(request);
    }
}
