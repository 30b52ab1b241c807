using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.IntegrationTests;

/// <summary>Retries on the same upstream and its circuit breaker, against an upstream that fails on command.</summary>
public sealed class ResilienceTests : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private Task<GatewayHost> Start(params (string Key, string Value)[] settings) =>
        GatewayHost.StartAsync(_upstream.BaseUrl, settings: settings.ToDictionary(s => s.Key, s => (string?)s.Value));

    private static Task<HttpResponseMessage> Chat(GatewayHost gateway, bool stream = false) =>
        gateway.Client.PostAsJsonAsync("/v1/chat/completions", new { model = "auto", stream, messages = new[] { new { role = "user", content = "hi" } } });

    /// <summary>The first <paramref name="failures"/> requests get <paramref name="status"/>; the rest are answered normally.</summary>
    private void FailFirst(int failures, int status, string? retryAfter = null)
    {
        var seen = 0;
        _upstream.Handler = async (context, received) =>
        {
            if (Interlocked.Increment(ref seen) <= failures)
            {
                if (retryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = retryAfter;
                }

                await FakeOpenAiUpstream.WriteJsonAsync(context, $$$"""{"error":{"message":"provider says {{{status}}}","type":"x","param":null,"code":null}}""", status);
                return;
            }

            var model = received.Json["model"]!.GetValue<string>();
            if (received.Json["stream"]?.GetValue<bool>() == true)
            {
                await FakeOpenAiUpstream.WriteSseAsync(context, FakeOpenAiUpstream.StreamEvents(model, includeUsage: true));
                return;
            }

            await FakeOpenAiUpstream.WriteJsonAsync(context, FakeOpenAiUpstream.ChatBody(model));
        };
    }

    private static async Task<string> Metrics(GatewayHost gateway) => await gateway.Client.GetStringAsync("/metrics");

    [Theory]
    [InlineData(503, false)]
    [InlineData(502, false)]
    [InlineData(429, false)]
    [InlineData(503, true)]
    public async Task TransientFailures_AreRetriedOnTheSameUpstream_BeforeTheClientSeesAnything(int status, bool stream)
    {
        await using var gateway = await Start(("Upstreams:fake:RetryDelay", "00:00:00.020"));
        FailFirst(2, status);

        using var response = await Chat(gateway, stream);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(stream ? "data: [DONE]" : FakeOpenAiUpstream.CompletionText, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(3, _upstream.Received.Count);
        Assert.Contains($"gateway_upstream_retries_total{{upstream=\"fake\",reason=\"{status}\"}} 2", await Metrics(gateway), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetriesRunOut_TheProvidersOwnAnswerReachesTheClient()
    {
        await using var gateway = await Start(("Upstreams:fake:RetryDelay", "00:00:00.020"), ("Upstreams:fake:Retries", "2"));
        FailFirst(10, 503);

        using var response = await Chat(gateway);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("provider says 503", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(3, _upstream.Received.Count);
    }

    [Fact]
    public async Task RetryAfter_IsHonoured_AndOneTooLongIsNotWaitedFor()
    {
        await using var gateway = await Start(("Upstreams:fake:MaxRetryAfter", "00:00:05"));
        FailFirst(1, 429, retryAfter: "1");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var waited = await Chat(gateway))
        {
            Assert.Equal(HttpStatusCode.OK, waited.StatusCode);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));
        }

        _upstream.Received.Clear();
        FailFirst(1, 429, retryAfter: "60");
        using var passed = await Chat(gateway);

        Assert.Equal(HttpStatusCode.TooManyRequests, passed.StatusCode);
        Assert.Equal("60", passed.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task ServerErrorsThatMayHaveDoneWork_AreNotRetried()
    {
        await using var gateway = await Start(("Upstreams:fake:RetryDelay", "00:00:00.020"));
        FailFirst(1, 500);

        using var response = await Chat(gateway);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task ConnectionRefused_IsRetriedThenA502()
    {
        var port = UpstreamFailureTests.UnusedPort();
        await using var gateway = await GatewayHost.StartAsync($"http://127.0.0.1:{port}/v1", settings: new Dictionary<string, string?>
        {
            ["Upstreams:fake:RetryDelay"] = "00:00:00.020",
        });

        using var response = await Chat(gateway);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("gateway_upstream_retries_total{upstream=\"fake\",reason=\"connect\"} 2", await Metrics(gateway), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CircuitBreaker_OpensOnADeadProvider_SkipsIt_ThenAProbeClosesIt()
    {
        await using var gateway = await Start(
            ("Upstreams:fake:Retries", "0"),
            ("Upstreams:fake:CircuitBreaker:MinimumThroughput", "4"),
            ("Upstreams:fake:CircuitBreaker:BreakDuration", "00:00:01"));
        using var admin = gateway.AdminClient();
        async Task<string> Circuit() => JsonNode.Parse(await admin.GetStringAsync("/admin/status"))!["upstreams"]![0]!["circuit"]!.GetValue<string>();
        FailFirst(4, 500);

        for (var i = 0; i < 4; i++)
        {
            using var failed = await Chat(gateway);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        Assert.Equal("open", await Circuit());
        using (var skipped = await Chat(gateway))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, skipped.StatusCode);
            var error = JsonNode.Parse(await skipped.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("upstream_circuit_open", error["code"]!.GetValue<string>());
            Assert.NotNull(skipped.Headers.RetryAfter);
        }

        Assert.Equal(4, _upstream.Received.Count); // the open circuit did not call the provider
        Assert.Contains("gateway_upstream_circuit_state{upstream=\"fake\",deployment=\"fake\"} 2", await Metrics(gateway), StringComparison.Ordinal);

        await Task.Delay(TimeSpan.FromSeconds(1.2));
        using (var probe = await Chat(gateway))
        {
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        Assert.Equal("closed", await Circuit());
        Assert.Contains("gateway_upstream_circuit_state{upstream=\"fake\",deployment=\"fake\"} 0", await Metrics(gateway), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenCircuit_FallsBackWithoutTouchingThePrimary()
    {
        await using var backup = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, UpstreamFailureTests.FallbackPolicy, new Dictionary<string, string?>
        {
            ["Upstreams:backup:BaseUrl"] = backup.BaseUrl,
            ["Upstreams:fake:Retries"] = "0",
            ["Upstreams:fake:CircuitBreaker:MinimumThroughput"] = "2",
            ["Upstreams:fake:CircuitBreaker:BreakDuration"] = "00:01:00",
        });
        FailFirst(100, StatusCodes.Status500InternalServerError);

        for (var i = 0; i < 4; i++)
        {
            using var response = await Chat(gateway);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("backup", response.Headers.GetValues("x-gateway-route").Single());
        }

        Assert.Equal(2, _upstream.Received.Count); // two failures opened the circuit; the next two went straight to the backup
        Assert.Equal(4, backup.Received.Count);
    }

    [Fact]
    public async Task Deployments_SpillOverToTheNextPriority_WithoutWaitingOutARetryAfter()
    {
        await using var payg = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await Start(
            ("Upstreams:fake:Deployments:0:Name", "provisioned"),
            ("Upstreams:fake:Deployments:0:BaseUrl", _upstream.BaseUrl),
            ("Upstreams:fake:Deployments:1:Name", "pay-as-you-go"),
            ("Upstreams:fake:Deployments:1:BaseUrl", payg.BaseUrl),
            ("Upstreams:fake:Deployments:1:Priority", "1"));
        FailFirst(100, 429, retryAfter: "60");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await Chat(gateway);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Single(_upstream.Received);
        Assert.Single(payg.Received);
        Assert.Equal($"Bearer {GatewayHost.ProviderKey}", payg.LastRequest.Headers["Authorization"]);
    }

    [Fact]
    public async Task Deployments_OfEqualPriority_ShareRequestsByWeight_AndADeadOneIsBrokenOff()
    {
        var dead = UpstreamFailureTests.UnusedPort();
        await using var gateway = await Start(
            ("Upstreams:fake:RetryDelay", "00:00:00.010"),
            ("Upstreams:fake:CircuitBreaker:MinimumThroughput", "3"),
            ("Upstreams:fake:CircuitBreaker:BreakDuration", "00:01:00"),
            ("Upstreams:fake:Deployments:0:Name", "east"),
            ("Upstreams:fake:Deployments:0:BaseUrl", _upstream.BaseUrl),
            ("Upstreams:fake:Deployments:1:Name", "west"),
            ("Upstreams:fake:Deployments:1:BaseUrl", $"http://127.0.0.1:{dead}/v1"));

        for (var i = 0; i < 30; i++)
        {
            using var response = await Chat(gateway);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // a refused connection on west is retried on east
        }

        Assert.Equal(30, _upstream.Received.Count);
        using var admin = gateway.AdminClient();
        var upstream = JsonNode.Parse(await admin.GetStringAsync("/admin/status"))!["upstreams"]![0]!;
        Assert.Equal("degraded", upstream["circuit"]!.GetValue<string>());
        var deployments = upstream["deployments"]!.AsArray().ToDictionary(d => d!["name"]!.GetValue<string>(), d => d!["circuit"]!.GetValue<string>());
        Assert.Equal("closed", deployments["east"]);
        Assert.Equal("open", deployments["west"]);
        var metrics = await Metrics(gateway);
        var refused = metrics.Split('\n').Single(l => l.StartsWith("gateway_upstream_retries_total{upstream=\"fake\",reason=\"connect\"}", StringComparison.Ordinal));
        Assert.InRange(int.Parse(refused[(refused.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture), 3, 20);
    }
}
