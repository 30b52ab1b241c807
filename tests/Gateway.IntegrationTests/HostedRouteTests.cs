using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.IntegrationTests;

public sealed class HostedRouteTests : GatewayWithUpstream
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task ChatCompletion_RewritesModelSwapsKeysAndPassesUnknownFieldsThrough()
    {
        const string request = """
            {"model":"auto","messages":[{"role":"user","content":"What is 2+2?"}],"n":2,"stop":["\n"],
             "response_format":{"type":"json_object"},"tools":[{"type":"function","function":{"name":"add","parameters":{"type":"object"}}}],
             "x_vendor_extension":{"keep":[1,2,3]},"temperature":0.2}
            """;
        using var response = await Gateway.Client.PostAsync("/v1/chat/completions", Json(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Upstream.LastRequest;
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal($"Bearer {GatewayHost.ProviderKey}", sent.Headers["Authorization"]);
        Assert.DoesNotContain(GatewayHost.ClientKey, string.Join("\n", sent.Headers.Values));
        Assert.DoesNotContain(GatewayHost.ClientKey, sent.BodyText);

        var expected = JsonNode.Parse(request)!.AsObject();
        expected["model"] = "big-model";
        Assert.True(JsonNode.DeepEquals(expected, sent.Json), sent.BodyText);
        // Property order is kept too: providers and their caches see the client's document.
        Assert.Equal(expected.Select(p => p.Key), sent.Json.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task ChatCompletion_ReturnsUpstreamBytesWithGatewayHeadersAndCost()
    {
        using var response = await Gateway.Client.PostAsync("/v1/chat/completions",
            Json("""{"model":"auto","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(FakeOpenAiUpstream.ChatBody("big-model"), await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("frontier", response.Headers.GetValues("x-gateway-route").Single());
        Assert.Matches("^[0-9a-f]{12}$", response.Headers.GetValues("x-gateway-policy-version").Single());
        // 1000 uncached × $2.50 + 200 cached × $1.25 + 300 output × $10, per million tokens.
        var cost = decimal.Parse(response.Headers.GetValues("x-gateway-cost-usd").Single(), CultureInfo.InvariantCulture);
        Assert.Equal(0.00575m, cost);
    }

    [Fact]
    public async Task ChatCompletion_PinnedConcreteModel_IsSentAsIsAndPricedAtItsOwnRate()
    {
        using var response = await Gateway.Client.PostAsync("/v1/chat/completions",
            Json("""{"model":"small-model","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("small-model", Upstream.LastRequest.Json["model"]!.GetValue<string>());
        // 1200 input × $0.15 + 300 output × $0.60 per million (no cached price: cached at the input rate).
        Assert.Equal("0.00036", response.Headers.GetValues("x-gateway-cost-usd").Single());
    }

    [Fact]
    public async Task Stream_WithoutClientUsage_AsksUpstreamForUsageAndHidesTheUsageChunk()
    {
        using var response = await Gateway.Client.PostAsync("/v1/chat/completions",
            Json("""{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var streamOptions = Upstream.LastRequest.Json["stream_options"]!;
        Assert.True(streamOptions["include_usage"]!.GetValue<bool>());

        var upstreamEvents = FakeOpenAiUpstream.StreamEvents("big-model", includeUsage: true);
        var expected = string.Concat(upstreamEvents.Where(e => !e.Contains("\"choices\":[]", StringComparison.Ordinal)));
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("x-gateway-cost-usd"));
    }

    [Fact]
    public async Task Stream_WithClientUsage_IsByteForByteTheUpstreamStream()
    {
        using var response = await Gateway.Client.PostAsync("/v1/chat/completions",
            Json("""{"model":"auto","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"""));

        var expected = string.Concat(FakeOpenAiUpstream.StreamEvents("big-model", includeUsage: true));
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Stream_FirstChunkReachesClientBeforeUpstreamFinishes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Upstream.Handler = async (context, _) =>
        {
            var events = FakeOpenAiUpstream.StreamEvents("big-model", includeUsage: true);
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(events[0], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(20), context.RequestAborted);
            foreach (var evt in events.Skip(1))
            {
                await context.Response.WriteAsync(evt, context.RequestAborted);
            }
        };

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("""{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}"""),
        };
        using var response = await Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = await ReadEventAsync(body).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(release.Task.IsCompleted);
        Assert.Contains("\"role\":\"assistant\"", first, StringComparison.Ordinal);
        release.SetResult();
        var rest = await new StreamReader(body).ReadToEndAsync();
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamRequest()
    {
        var upstreamCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(FakeOpenAiUpstream.StreamEvents("big-model", true)[0]);
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
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = Json("""{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}"""),
            };
            using var response = await Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            await using var body = await response.Content.ReadAsStreamAsync(cancel.Token);
            await ReadEventAsync(body);
            cancel.Cancel();
        }

        await upstreamCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(429, "rate_limit_exceeded")]
    [InlineData(500, "server_error")]
    public async Task UpstreamErrorStatus_ReachesClientWithItsBody(int status, string code)
    {
        var body = $$$"""{"error":{"message":"upstream says no","type":"requests","param":null,"code":"{{{code}}}"}}""";
        Upstream.Handler = async (context, _) =>
        {
            context.Response.Headers["retry-after"] = "7";
            await FakeOpenAiUpstream.WriteJsonAsync(context, body, status);
        };

        using var response = await Gateway.Client.PostAsync("/v1/chat/completions",
            Json("""{"model":"auto","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal("7", response.Headers.GetValues("retry-after").Single());
        Assert.Equal("frontier", response.Headers.GetValues("x-gateway-route").Single());
    }

    [Fact]
    public async Task Completions_AreForwardedWithModelRewritten()
    {
        using var response = await Gateway.Client.PostAsync("/v1/completions",
            Json("""{"model":"frontier","prompt":"Say hi","max_tokens":5}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v1/completions", Upstream.LastRequest.Path);
        Assert.Equal("big-model", Upstream.LastRequest.Json["model"]!.GetValue<string>());
        Assert.Equal(FakeOpenAiUpstream.CompletionBody("big-model"), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Embeddings_AreForwardedForAPinnedModel()
    {
        using var response = await Gateway.Client.PostAsync("/v1/embeddings",
            Json("""{"model":"embed-model","input":["a","b"]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v1/embeddings", Upstream.LastRequest.Path);
        Assert.Equal(FakeOpenAiUpstream.EmbeddingsBody("embed-model"), await response.Content.ReadAsStringAsync());
        // 8 prompt tokens × $0.02 per million.
        Assert.Equal("0.00000016", response.Headers.GetValues("x-gateway-cost-usd").Single());
    }

    [Fact]
    public async Task Models_ListsAutoRoutesAndPinnableModels()
    {
        var json = JsonNode.Parse(await Gateway.Client.GetStringAsync("/v1/models"))!;

        Assert.Equal("list", json["object"]!.GetValue<string>());
        var ids = json["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToArray();
        Assert.Equal(["auto", "frontier", "big-model", "small-model", "embed-model"], ids);
        Assert.All(json["data"]!.AsArray(), m => Assert.Equal("model", m!["object"]!.GetValue<string>()));
    }

    [Fact]
    public async Task AzureOpenAiUpstream_AddressesTheDeployment_WithApiVersionAndApiKey()
    {
        const string policy = """
            default_route: azure-gpt
            routes:
              azure-gpt:
                kind: hosted
                upstream: azure
                model: gpt4o-prod
                price: { input_per_mtok: 2.5, output_per_mtok: 10 }
            """;
        await using var gateway = await GatewayHost.StartAsync(Upstream.BaseUrl, policy, new Dictionary<string, string?>
        {
            ["Upstreams:azure:Kind"] = "azure",
            ["Upstreams:azure:BaseUrl"] = Upstream.BaseUrl[..^"/v1".Length],
            ["Upstreams:azure:ApiVersion"] = "2024-10-21",
            ["Upstreams:azure:ApiKey"] = "azure-key-0001",
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("""{"model":"auto","messages":[{"role":"user","content":"hi"}]}"""),
        };
        request.Headers.Add("api-key", "a-client-supplied-value");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Upstream.LastRequest;
        Assert.Equal("/openai/deployments/gpt4o-prod/chat/completions", sent.Path);
        Assert.Equal("?api-version=2024-10-21", sent.Query);
        Assert.Equal("azure-key-0001", sent.Headers["api-key"]);
        Assert.False(sent.Headers.ContainsKey("Authorization"));
        Assert.Equal("0.006", response.Headers.GetValues("x-gateway-cost-usd").Single()); // 1200 × $2.50 + 300 × $10 per million
    }

    [Fact]
    public async Task AzureUpstreamWithoutApiVersion_StopsStartUpNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => GatewayHost.StartAsync(Upstream.BaseUrl, null,
            new Dictionary<string, string?> { ["Upstreams:azure:Kind"] = "azure", ["Upstreams:azure:BaseUrl"] = "https://x.openai.azure.com" }));
        Assert.Contains("Upstreams:azure:ApiVersion is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_ListsOnlyWhatTheCallersTeamMayPin()
    {
        using var admin = Gateway.AdminClient();
        var policy = GatewayHost.DefaultPolicy + """

                pinnable_by: [support]
            """;
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/admin/policy", new StringContent(policy, Encoding.UTF8, "application/yaml"))).StatusCode);

        var research = JsonNode.Parse(await Gateway.Client.GetStringAsync("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>());
        using var support = new HttpClient { BaseAddress = Gateway.Client.BaseAddress };
        support.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.OtherTeamKey);
        var supportIds = JsonNode.Parse(await support.GetStringAsync("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>());

        Assert.Equal(["auto"], research);
        Assert.Equal(["auto", "frontier", "big-model", "small-model", "embed-model"], supportIds);
        using var pinned = await Gateway.Client.PostAsync("/v1/chat/completions", Json("""{"model":"frontier","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.Forbidden, pinned.StatusCode);
    }

    [Fact]
    public async Task Metrics_CountServedRequestsByRouteTeamAndSpend()
    {
        using var response = await Gateway.Client.PostAsync("/v1/chat/completions",
            Json("""{"model":"auto","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var metrics = await Gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("gateway_requests_total{route=\"frontier\",model=\"big-model\",team=\"research\",category=\"chat\",status=\"200\",operation=\"chat.completions\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gateway_tokens_total{route=\"frontier\",model=\"big-model\",team=\"research\",direction=\"input\"} 1200", metrics, StringComparison.Ordinal);
        Assert.Contains("gateway_spend_usd_total{route=\"frontier\",model=\"big-model\",team=\"research\"} 0.00575", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bodies_ReachTheProviderIntact_WhileTheGatewayReusesItsBuffers()
    {
        // Request and upstream bodies under 64 KiB live in pooled buffers: each must reach the provider exactly as its client
        // sent it, whatever ran before it or beside it (a buffer returned early, or read past its length, would mix two).
        // Two bodies over 64 KiB take the unpooled path among them.
        var prompts = Enumerable.Range(0, 48).Select(i => $"#{i:D2} " + new string((char)('a' + (i % 26)), 6000 - (i * 123)))
            .Append("#48 " + new string('y', 70_000)).Append("#49 " + new string('z', 150_000)).ToArray();
        async Task Send(string prompt)
        {
            var body = new JsonObject { ["model"] = "auto", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) };
            using var response = await Gateway.Client.PostAsync("/v1/chat/completions", Json(body.ToJsonString()));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Task.WhenAll(prompts.Select(Send));
        foreach (var prompt in prompts.Reverse())
        {
            await Send(prompt); // each shorter one after a longer one: no bytes of the longer may follow it
        }

        var sent = Upstream.Received.Select(r => r.Json["messages"]![0]!["content"]!.GetValue<string>()).ToList();
        Assert.Equal(prompts.Concat(prompts).Order(StringComparer.Ordinal), sent.Order(StringComparer.Ordinal));
        Assert.All(Upstream.Received, r => Assert.Equal("big-model", r.Json["model"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ATraceContext_FromTheClient_ReachesTheProvider()
    {
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("""{"model":"auto","messages":[{"role":"user","content":"hi"}]}"""),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");

        using var response = await Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", Upstream.LastRequest.Headers["traceparent"]);
    }

    /// <summary>Reads one SSE event (up to its blank line) without reading further.</summary>
    internal static async Task<string> ReadEventAsync(Stream body)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await body.ReadAsync(one) == 1)
        {
            bytes.Add(one[0]);
            if (bytes.Count >= 2 && bytes[^1] == '\n' && bytes[^2] == '\n')
            {
                break;
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
