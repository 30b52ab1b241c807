using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>Every client-facing failure is an OpenAI-shaped JSON error with the right status.</summary>
public sealed class ErrorResponseTests : GatewayWithUpstream
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["OpenAi:MaxRequestBodyBytes"] = "4096",
    };

    private static async Task<JsonNode> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? code, string? param = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(["message", "type", "param", "code"], error.AsObject().Select(p => p.Key));
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(code, error["code"]?.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.DoesNotContain("   at ", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        return error;
    }

    private Task<HttpResponseMessage> PostChatAsync(string body, HttpClient? client = null) =>
        (client ?? Gateway.Client).PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData("{\"model\":\"auto\",\"messages\":[", "invalid_json", null)]
    [InlineData("", "invalid_json", null)]
    [InlineData("[1,2]", "invalid_json", null)]
    [InlineData("{\"model\":\"auto\"}", "missing_required_parameter", "messages")]
    [InlineData("{\"model\":\"auto\",\"messages\":[]}", "invalid_parameter", "messages")]
    [InlineData("{\"model\":\"auto\",\"messages\":\"hi\"}", "invalid_parameter", "messages")]
    [InlineData("{\"model\":\"auto\",\"messages\":[{\"content\":\"no role\"}]}", "invalid_parameter", "messages[0]")]
    [InlineData("{\"model\":42,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "invalid_parameter", "model")]
    public async Task MalformedChatRequest_Is400(string body, string code, string? param)
    {
        using var response = await PostChatAsync(body);
        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, code, param);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Empty(Upstream.Received);
    }

    [Theory]
    [InlineData("/admin/policy/history?limit=abc")]
    [InlineData("/admin/policy/history?limit=99999999999")]
    public async Task UnbindableQueryParameter_Is400InOpenAiShape(string path)
    {
        using var admin = Gateway.AdminClient();

        using var response = await admin.GetAsync(path);

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "bad_request");
        Assert.Contains("limit", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingPromptOnCompletions_Is400()
    {
        using var response = await Gateway.Client.PostAsync("/v1/completions", new StringContent("{\"model\":\"auto\"}"));
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "missing_required_parameter", "prompt");
    }

    [Fact]
    public async Task MissingKey_Is401()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
        using var response = await PostChatAsync("""{"messages":[{"role":"user","content":"x"}]}""", anonymous);
        var error = await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "missing_api_key");
        Assert.Equal("authentication_error", error["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task WrongKey_Is401AndNeverEchoesTheKey()
    {
        using var client = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", "sk-not-a-real-key-123456");
        using var response = await PostChatAsync("""{"messages":[{"role":"user","content":"x"}]}""", client);
        var error = await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_api_key");
        Assert.DoesNotContain("sk-not-a-real-key", error.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelsEndpoint_RequiresAKey()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
        using var response = await anonymous.GetAsync("/v1/models");
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "missing_api_key");
    }

    [Fact]
    public async Task UnknownModel_Is404()
    {
        using var response = await PostChatAsync("""{"model":"gpt-nonexistent","messages":[{"role":"user","content":"x"}]}""");
        await AssertErrorAsync(response, HttpStatusCode.NotFound, "model_not_found", "model");
        Assert.Empty(Upstream.Received);
    }

    [Theory]
    [InlineData("""{"model":"auto","input":"x"}""")]
    [InlineData("""{"input":"x"}""")]
    public async Task AutoOrNoModelOnEmbeddings_Is400_ListingTheModels(string body)
    {
        using var response = await Gateway.Client.PostAsync("/v1/embeddings", new StringContent(body));
        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "model_required", "model");
        Assert.EndsWith("big-model, embed-model, small-model.", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyOverLimit_Is413_WithContentLength()
    {
        var content = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 5000) + "\"}]}";
        using var response = await PostChatAsync(content);
        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task BodyOverLimit_Is413_WhenChunked()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 5000) + "\"}]}");
        using var content = new StreamContent(new MemoryStream(bytes));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await Gateway.Client.SendAsync(request);
        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task UnknownUrl_Is404_AndWrongMethod_Is405()
    {
        using var unknown = await Gateway.Client.PostAsync("/v1/assistants", new StringContent("{}"));
        await AssertErrorAsync(unknown, HttpStatusCode.NotFound, "unknown_url");
        using var wrongMethod = await Gateway.Client.GetAsync("/v1/chat/completions");
        await AssertErrorAsync(wrongMethod, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public async Task Admin_RequiresTheAdminKey()
    {
        using var withClientKey = await Gateway.Client.GetAsync("/admin/status");
        await AssertErrorAsync(withClientKey, HttpStatusCode.Unauthorized, "invalid_api_key");

        using var admin = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        using var response = await admin.GetAsync("/admin/status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"frontier\"", status, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayHost.ProviderKey, status, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayHost.ClientKey, status, StringComparison.Ordinal);
        // The schema was brought up to date before the gateway served, and says so.
        var schema = JsonNode.Parse(status)!["schema"]!;
        Assert.Equal(global::Gateway.Hosting.GatewaySchema.Latest, schema["version"]!.GetValue<int>());
        Assert.Equal(global::Gateway.Hosting.GatewaySchema.Latest, schema["latest_known"]!.GetValue<int>());
    }

    [Fact]
    public async Task UpstreamHandlerThrows_ClientSees500FromUpstreamNotAStackTrace()
    {
        Upstream.Handler = (_, _) => throw new InvalidOperationException("boom in upstream");
        using var response = await PostChatAsync("""{"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain("boom", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>Upstream failures: unreachable → 502, too slow → 504, and the fallback chain.</summary>
public sealed class UpstreamFailureTests
{
    /// <summary>
    /// A loopback port nothing listens on: 9 (discard), below the ephemeral range the OS hands to the other tests' servers.
    /// A port freed by a listener could be taken by a server another test starts meanwhile (seen once: the "dead" upstream
    /// answered as another test's gateway, 401).
    /// </summary>
    internal static int UnusedPort() => 9;

    [Fact]
    public async Task UpstreamDown_Is502()
    {
        await using var gateway = await GatewayHost.StartAsync($"http://127.0.0.1:{UnusedPort()}/v1");
        using var response = await gateway.Client.PostAsync("/v1/chat/completions",
            new StringContent("""{"messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("upstream_unreachable", error["code"]!.GetValue<string>());
        Assert.Equal("frontier", response.Headers.GetValues("x-gateway-route").Single());
    }

    [Fact]
    public async Task UpstreamSlow_Is504AfterTheConfiguredTimeout()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.Handler = (context, _) => Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
        await using var gateway = await GatewayHost.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string?>
        {
            ["Upstreams:fake:Timeout"] = "00:00:00.500",
        });

        var started = DateTime.UtcNow;
        using var response = await gateway.Client.PostAsync("/v1/chat/completions",
            new StringContent("""{"messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
    }

    internal static string FallbackPolicy => """
        default_route: primary
        reference_route: primary
        routes:
          primary:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00 }
            fallbacks: [backup]
          backup:
            kind: hosted
            upstream: backup
            model: backup-model
            price: { input_per_mtok: 1.00, output_per_mtok: 2.00 }
        """;

    [Fact]
    public async Task PrimaryDown_FallsBackToTheNextRoute()
    {
        await using var backup = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync($"http://127.0.0.1:{UnusedPort()}/v1", FallbackPolicy,
            new Dictionary<string, string?> { ["Upstreams:backup:BaseUrl"] = backup.BaseUrl });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions",
            new StringContent("""{"messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backup", response.Headers.GetValues("x-gateway-route").Single());
        Assert.Equal("backup-model", backup.LastRequest.Json["model"]!.GetValue<string>());
        Assert.Equal(FakeOpenAiUpstream.ChatBody("backup-model"), await response.Content.ReadAsStringAsync());
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("gateway_fallbacks_total{from_route=\"primary\",to_route=\"backup\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrimaryAnswers503_FallsBackWithoutLeakingThePrimaryAnswer()
    {
        await using var primary = await FakeOpenAiUpstream.StartAsync();
        primary.Handler = (context, _) =>
        {
            context.Response.Headers["x-primary-only"] = "1";
            return FakeOpenAiUpstream.WriteJsonAsync(context, """{"error":{"message":"overloaded"}}""", 503);
        };
        await using var backup = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(primary.BaseUrl, FallbackPolicy,
            new Dictionary<string, string?> { ["Upstreams:backup:BaseUrl"] = backup.BaseUrl });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions",
            new StringContent("""{"stream":true,"messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-primary-only"));
        Assert.Equal("backup", response.Headers.GetValues("x-gateway-route").Single());
        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single());
        Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(3, primary.Received.Count); // the first attempt and its two retries, then the fallback
        Assert.Single(backup.Received);
    }
}
