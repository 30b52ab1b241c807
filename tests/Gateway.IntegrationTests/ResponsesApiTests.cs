#pragma warning disable OPENAI001 // the SDK marks its Responses client as evaluation-only; it is what clients call

using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using OpenAI;
using OpenAI.Responses;

namespace Gateway.IntegrationTests;

/// <summary>
/// <c>/v1/responses</c> on hosted routes: the official SDK's Responses client and raw HTTP against the imitation
/// provider, routed, priced and recorded like chat; follow-ups reach the upstream that created the response.
/// </summary>
public sealed class ResponsesApiTests : GatewayWithUpstream
{
    /// <summary>900 uncached × $2.50 + 100 cached × $1.25 + 250 output × $10, per million tokens.</summary>
    private const decimal ResponseCost = 0.004875m;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Ledger:Durability"] = "sync" };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static ResponsesClient Responses(GatewayHost gateway) =>
        new OpenAIClient(new ApiKeyCredential(GatewayHost.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") })
            .GetResponsesClient();

    private static async Task<JsonNode> Spend(GatewayHost gateway, string groupBy)
    {
        using var admin = gateway.AdminClient();
        return JsonNode.Parse(await admin.GetStringAsync($"/admin/spend?group_by={groupBy}"))!;
    }

    private static async Task AssertError(HttpResponseMessage response, HttpStatusCode status, string? code, string? param)
    {
        Assert.Equal(status, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.NotNull(error["type"]);
        Assert.Equal(code, error["code"]?.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }

    [Fact]
    public async Task Sdk_CreateResponse_IsRoutedForwardedAndAnswered()
    {
        var options = new CreateResponseOptions
        {
            Model = "auto",
            Instructions = "Be brief.",
            MaxOutputTokenCount = 50,
            InputItems = { ResponseItem.CreateUserMessageItem("Say hello.") },
        };

        ResponseResult response = await Responses(Gateway).CreateResponseAsync(options);

        Assert.Equal(FakeOpenAiUpstream.CompletionText, response.GetOutputText());
        Assert.Equal(FakeOpenAiUpstream.ResponseInputTokens, response.Usage.InputTokenCount);
        Assert.Equal(FakeOpenAiUpstream.ResponseOutputTokens, response.Usage.OutputTokenCount);
        var sent = Upstream.LastRequest;
        Assert.Equal("/v1/responses", sent.Path);
        Assert.Equal($"Bearer {GatewayHost.ProviderKey}", sent.Headers["Authorization"]);
        Assert.Equal("big-model", sent.Json["model"]!.GetValue<string>());
        Assert.Equal(50, sent.Json["max_output_tokens"]!.GetValue<int>());
        Assert.Equal("Be brief.", sent.Json["instructions"]!.GetValue<string>());
    }

    [Fact]
    public async Task Raw_Json_KeepsEveryFieldPricesCachedTokensAndSetsGatewayHeaders()
    {
        const string request = """
            {"model":"auto","input":[{"role":"user","content":[{"type":"input_text","text":"What is in this picture?"},{"type":"input_image","image_url":"https://example.com/cat.png"}]}],
             "instructions":"Answer in French.","tools":[{"type":"web_search"}],"temperature":0.3,"metadata":{"ticket":"42"},"user":"u-1","store":false,
             "x_vendor_extension":{"keep":[1,2,3]}}
            """;
        using var response = await Gateway.Client.PostAsync("/v1/responses", Json(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Upstream.LastRequest;
        var expected = JsonNode.Parse(request)!.AsObject();
        expected["model"] = "big-model";
        Assert.True(JsonNode.DeepEquals(expected, sent.Json), sent.BodyText);
        Assert.Equal(FakeOpenAiUpstream.ResponseObject("resp_fake_1", "big-model", "completed", withOutput: true), await response.Content.ReadAsStringAsync());
        Assert.Equal("frontier", response.Headers.GetValues("x-gateway-route").Single());
        Assert.Equal(ResponseCost, decimal.Parse(response.Headers.GetValues("x-gateway-cost-usd").Single(), System.Globalization.CultureInfo.InvariantCulture));

        var row = (await Spend(Gateway, "operation"))["rows"]!.AsArray().Single()!;
        Assert.Equal("responses", row["group"]!["operation"]!.GetValue<string>());
        Assert.Equal(FakeOpenAiUpstream.ResponseInputTokens, row["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(FakeOpenAiUpstream.ResponseCachedTokens, row["cached_prompt_tokens"]!.GetValue<long>());
        Assert.Equal(FakeOpenAiUpstream.ResponseOutputTokens, row["completion_tokens"]!.GetValue<long>());
        Assert.Equal(ResponseCost, row["cost_usd"]!.GetValue<decimal>());
        Assert.Equal(0, row["estimated_usage_requests"]!.GetValue<long>());
    }

    [Fact]
    public async Task Sdk_Streaming_DeliversTypedEventsAndTheCompletedUsage()
    {
        var text = new StringBuilder();
        ResponseResult? completed = null;

        await foreach (var update in await Responses(Gateway).CreateResponseStreamingAsync("auto", "Say hello.", previousResponseId: null))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            else if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }

        Assert.Equal(FakeOpenAiUpstream.CompletionText + " ", text.ToString());
        Assert.NotNull(completed);
        Assert.Equal(FakeOpenAiUpstream.ResponseOutputTokens, completed.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Raw_Stream_IsRelayedByteForByte_AndPricedFromResponseCompleted()
    {
        using var response = await Gateway.Client.PostAsync("/v1/responses",
            Json("""{"model":"auto","stream":true,"input":"Say hello."}"""));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(string.Concat(FakeOpenAiUpstream.ResponseEvents("resp_fake_1", "big-model")), await response.Content.ReadAsStringAsync());
        // Responses streams carry usage in response.completed: nothing is added to the request.
        Assert.Null(Upstream.LastRequest.Json["stream_options"]);

        var total = (await Spend(Gateway, "operation"))["total"]!;
        Assert.Equal(FakeOpenAiUpstream.ResponseOutputTokens, total["completion_tokens"]!.GetValue<long>());
        Assert.Equal(ResponseCost, total["cost_usd"]!.GetValue<decimal>());
        Assert.Equal(0, total["estimated_usage_requests"]!.GetValue<long>());
    }

    [Fact]
    public async Task ChatAndResponses_AreCountedApartInLedgerAndMetrics()
    {
        using (var chat = await Gateway.Client.PostAsync("/v1/chat/completions", Json("""{"model":"auto","messages":[{"role":"user","content":"hi"}]}""")))
        using (var responses = await Gateway.Client.PostAsync("/v1/responses", Json("""{"model":"auto","input":"hi"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            Assert.Equal(HttpStatusCode.OK, responses.StatusCode);
        }

        var operations = (await Spend(Gateway, "operation"))["rows"]!.AsArray()
            .ToDictionary(r => r!["group"]!["operation"]!.GetValue<string>(), r => r!["requests"]!.GetValue<long>());
        Assert.Equal(new Dictionary<string, long> { ["chat.completions"] = 1, ["responses"] = 1 }, operations);
        var metrics = await Gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("status=\"200\",operation=\"responses\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("status=\"200\",operation=\"chat.completions\"} 1", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"auto","input":42}""", "input")]
    [InlineData("""{"model":"auto","input":["just a string"]}""", "input[0]")]
    [InlineData("""{"model":"auto"}""", "input")]
    [InlineData("""{"model":"auto","input":"hi","instructions":{"text":"no"}}""", "instructions")]
    [InlineData("""{"model":"auto","input":"hi","previous_response_id":7}""", "previous_response_id")]
    [InlineData("""{"model":"auto","input":"hi","max_output_tokens":0}""", "max_output_tokens")]
    public async Task InvalidRequest_IsA400AtItsParameter_AndNeverReachesTheUpstream(string body, string param)
    {
        using var response = await Gateway.Client.PostAsync("/v1/responses", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task UnknownPreviousResponse_GetsTheProvidersAnswer()
    {
        using var response = await Gateway.Client.PostAsync("/v1/responses",
            Json("""{"model":"auto","input":"and then?","previous_response_id":"resp_never_made"}"""));

        await AssertError(response, HttpStatusCode.BadRequest, "previous_response_not_found", "previous_response_id");
        Assert.Equal("resp_never_made", Upstream.LastRequest.Json["previous_response_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Budget_RejectsResponsesLikeChat()
    {
        await using var gateway = await GatewayHost.StartAsync(Upstream.BaseUrl, GatewayHost.DefaultPolicy + """

            budgets:
              research: { daily_usd: 0.004, on_exceed: reject }
            """, Settings);

        using (var first = await gateway.Client.PostAsync("/v1/responses", Json("""{"model":"auto","input":"hi","max_output_tokens":100}""")))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var served = Upstream.Received.Count;
        using var second = await gateway.Client.PostAsync("/v1/responses", Json("""{"model":"auto","input":"hi","max_output_tokens":100}"""));
        await AssertError(second, HttpStatusCode.TooManyRequests, "budget_exceeded", null);
        Assert.Equal(served, Upstream.Received.Count);
    }

    [Fact]
    public async Task ClientDisconnect_MidStream_CancelsUpstream_AndRecordsTheTokensDelivered()
    {
        var upstreamCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = FakeOpenAiUpstream.ResponseEvents("resp_cut", "big-model");
        Upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            // created, in_progress, item added, part added, then two deltas: "Hello " "from ".
            foreach (var evt in events.Take(6))
            {
                await context.Response.WriteAsync(evt);
            }

            await context.Response.Body.FlushAsync();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                upstreamCancelled.SetResult();
            }
        };

        using (var cancel = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
            {
                Content = Json("""{"model":"auto","stream":true,"input":"Say hello."}"""),
            };
            using var response = await Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            await using var body = await response.Content.ReadAsStreamAsync(cancel.Token);
            for (var i = 0; i < 6; i++)
            {
                await HostedRouteTests.ReadEventAsync(body);
            }

            cancel.Cancel();
        }

        await upstreamCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        JsonNode? row = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); row is null && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            row = (await Spend(Gateway, "operation,status"))["rows"]!.AsArray().SingleOrDefault();
        }

        Assert.NotNull(row);
        Assert.Equal("499", row["group"]!["status"]!.GetValue<string>());
        Assert.Equal("responses", row["group"]!["operation"]!.GetValue<string>());
        Assert.Equal(1, row["estimated_usage_requests"]!.GetValue<long>());
        // "Hello " and "from ": counted, not invented.
        Assert.InRange(row["completion_tokens"]!.GetValue<long>(), 2, 4);
        Assert.True(row["prompt_tokens"]!.GetValue<long>() > 0);
    }
}

/// <summary>Follow-ups and stored responses reach the upstream that created them, whatever the policy now prefers.</summary>
public sealed class ResponseAffinityTests : IAsyncLifetime
{
    private const string TwoUpstreams = """
        default_route: frontier
        reference_route: frontier
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00, cached_input_per_mtok: 1.25 }
          second:
            kind: hosted
            upstream: fake2
            model: other-model
            price: { input_per_mtok: 1.00, output_per_mtok: 4.00 }
        """;

    private FakeOpenAiUpstream _first = null!;
    private FakeOpenAiUpstream _second = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _first = await FakeOpenAiUpstream.StartAsync();
        _second = await FakeOpenAiUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_first.BaseUrl, TwoUpstreams, new Dictionary<string, string?>
        {
            ["Upstreams:fake2:BaseUrl"] = _second.BaseUrl,
            ["Upstreams:fake2:ApiKey"] = "sk-second-provider",
            ["Ledger:Durability"] = "sync",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<string> CreateOnSecond()
    {
        using var response = await _gateway.Client.PostAsync("/v1/responses", Json("""{"model":"second","input":"Remember the number 7."}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task FollowUp_ReachesTheUpstreamThatCreatedTheResponse_NotThePolicyDefault()
    {
        var id = await CreateOnSecond();

        ResponseResult followUp = await new OpenAIClient(new ApiKeyCredential(GatewayHost.ClientKey),
                new OpenAIClientOptions { Endpoint = new Uri(_gateway.BaseUrl + "/v1") })
            .GetResponsesClient().CreateResponseAsync("auto", "Which number?", previousResponseId: id);

        Assert.Equal(FakeOpenAiUpstream.CompletionText, followUp.GetOutputText());
        Assert.Empty(_first.Received);
        Assert.Equal(2, _second.Received.Count);
        var sent = _second.LastRequest;
        Assert.Equal(id, sent.Json["previous_response_id"]!.GetValue<string>());
        Assert.Equal("other-model", sent.Json["model"]!.GetValue<string>());
        Assert.Equal("Bearer sk-second-provider", sent.Headers["Authorization"]);
    }

    [Fact]
    public async Task FollowUp_ExplainedAndHeadered_AsFollowUp()
    {
        var id = await CreateOnSecond();

        using var response = await _gateway.Client.PostAsync("/v1/responses", Json($$"""{"model":"auto","input":"Which?","previous_response_id":"{{id}}"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("second", response.Headers.GetValues("x-gateway-route").Single());
    }

    [Fact]
    public async Task StoredResponse_GetAndDelete_AreForwardedToItsUpstream_AndHiddenFromOtherTeams()
    {
        var id = await CreateOnSecond();

        using (var get = await _gateway.Client.GetAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(id, JsonNode.Parse(await get.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
            Assert.Equal("GET", _second.LastRequest.Method);
            Assert.Equal($"/v1/responses/{id}", _second.LastRequest.Path);
            Assert.Equal("Bearer sk-second-provider", _second.LastRequest.Headers["Authorization"]);
        }

        using (var other = new HttpClient { BaseAddress = _gateway.Client.BaseAddress })
        {
            other.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.OtherTeamKey);
            using var hidden = await other.GetAsync($"/v1/responses/{id}");
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            Assert.Equal("response_not_found", JsonNode.Parse(await hidden.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
            using var notDeleted = await other.DeleteAsync($"/v1/responses/{id}");
            Assert.Equal(HttpStatusCode.NotFound, notDeleted.StatusCode);
        }

        using (var delete = await _gateway.Client.DeleteAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
            Assert.True(JsonNode.Parse(await delete.Content.ReadAsStringAsync())!["deleted"]!.GetValue<bool>());
        }

        Assert.False(_second.StoredResponses.ContainsKey(id));
        using var gone = await _gateway.Client.GetAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Empty(_first.Received);
    }

    [Fact]
    public async Task FollowUp_WhoseRouteWasRemoved_GetsAClearError_AndIsNotSentElsewhere()
    {
        var id = await CreateOnSecond();
        using (var admin = _gateway.AdminClient())
        {
            var onlyFirst = TwoUpstreams[..TwoUpstreams.IndexOf("  second:", StringComparison.Ordinal)];
            using var put = await admin.PutAsync("/admin/policy", new StringContent(onlyFirst, Encoding.UTF8, "application/yaml"));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var response = await _gateway.Client.PostAsync("/v1/responses", Json($$"""{"model":"auto","input":"Which?","previous_response_id":"{{id}}"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("previous_response_unreachable", error["code"]!.GetValue<string>());
        Assert.Equal("previous_response_id", error["param"]!.GetValue<string>());
        Assert.Empty(_first.Received);
        Assert.Single(_second.Received);
    }
}
