using Gateway.Testing;
using Microsoft.AspNetCore.Http;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.Hosting;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.Spend;
using Microsoft.Extensions.Options;

namespace Gateway.IntegrationTests;

/// <summary>The ledger, the spend report, metrics and budgets agree, over real HTTP and a real SQLite file.</summary>
public sealed class SpendLedgerTests : IAsyncLifetime
{
    // The fake upstream reports 1,200 prompt tokens (200 cached) and 300 completion tokens per chat:
    // at big-model prices (2.50 / 10.00 / cached 1.25 per 1M) that is $0.00575 a request.
    private const decimal ChatCost = 0.00575m;

    // Its streams report 40 prompt and 7 completion tokens: $0.00017.
    private const decimal StreamCost = 0.00017m;

    private readonly string _folder = TestFolders.Create("gateway-spend-").FullName;
    private FakeOpenAiUpstream _upstream = null!;

    private string ConnectionString => $"Data Source={Path.Combine(_folder, "gateway.db")}";

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private Task<GatewayHost> Start(string? policy = null, params (string Key, string Value)[] settings)
    {
        var config = new Dictionary<string, string?> { ["Ledger:ConnectionString"] = ConnectionString };
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }

        return GatewayHost.StartAsync(_upstream.BaseUrl, policy, config);
    }

    private static Task<HttpResponseMessage> Chat(GatewayHost gateway, string model = "auto", bool stream = false) =>
        gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model,
            stream,
            messages = new[] { new { role = "user", content = "Summarise the plot of Hamlet in two sentences." } },
        });

    private static async Task<JsonNode> Report(GatewayHost gateway, string query = "group_by=team,route,model")
    {
        using var admin = gateway.AdminClient();
        using var response = await admin.GetAsync($"/admin/spend?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task<JsonNode> ReportWhen(GatewayHost gateway, long requests)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(50))
        {
            var report = await Report(gateway);
            if (report["total"]!["requests"]!.GetValue<long>() >= requests || DateTime.UtcNow > deadline)
            {
                return report;
            }
        }
    }

    private static decimal MetricSum(string metrics, string name) => metrics.Split('\n')
        .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
        .Sum(l => decimal.Parse(l[(l.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture));

    [Fact]
    public async Task Ledger_Report_Metrics_AndCostHeaders_AgreeToTheCent()
    {
        await using var gateway = await Start();
        var headerCosts = 0m;
        for (var i = 0; i < 6; i++)
        {
            using var response = await Chat(gateway);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            headerCosts += decimal.Parse(response.Headers.GetValues("x-gateway-cost-usd").Single(), CultureInfo.InvariantCulture);
        }

        for (var i = 0; i < 3; i++)
        {
            using var streamed = await Chat(gateway, stream: true);
            await streamed.Content.ReadAsStringAsync();
        }

        using (var missing = await Chat(gateway, model: "no-such-model"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        var report = await ReportWhen(gateway, 10);
        var total = report["total"]!;
        Assert.Equal(10, total["requests"]!.GetValue<long>());
        Assert.Equal(1, total["failed_requests"]!.GetValue<long>());
        Assert.Equal((6 * 1200) + (3 * 40), total["prompt_tokens"]!.GetValue<long>());
        Assert.Equal((6 * 300) + (3 * 7), total["completion_tokens"]!.GetValue<long>());
        var expected = (6 * ChatCost) + (3 * StreamCost);
        Assert.Equal(expected, total["cost_usd"]!.GetValue<decimal>());
        Assert.Equal(6 * ChatCost, headerCosts);

        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Equal(expected, Math.Round(MetricSum(metrics, "gateway_spend_usd_total"), 9));
        var rows = report["rows"]!.AsArray();
        Assert.Contains(rows, r => r!["group"]!["route"]!.GetValue<string>() == "none" && r["failed_requests"]!.GetValue<long>() == 1);
    }

    [Fact]
    public async Task Report_Csv_OpensAsASpreadsheet()
    {
        await using var gateway = await Start();
        (await Chat(gateway)).Dispose();
        await ReportWhen(gateway, 1);
        using var admin = gateway.AdminClient();

        using var response = await admin.GetAsync("/admin/spend?group_by=team,model&format=csv");

        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("team,model,requests,failed_requests,prompt_tokens,completion_tokens,cached_prompt_tokens,estimated_usage_requests,cost_usd,counterfactual_cost_usd,saved_usd,expected_quality_change", lines[0]);
        Assert.Equal("research,big-model,1,0,1200,300,200,0,0.00575,0.00575,0,0", lines[1]); // served on the reference route: no quality change
    }

    [Theory]
    [InlineData("group_by=team,planet", "group_by")]
    [InlineData("from=yesterday-ish", "from")]
    [InlineData("format=xml", "format")]
    [InlineData("from=2026-12-01&to=2026-11-01", "to")]
    public async Task Report_BadParameters_Are400(string query, string param)
    {
        await using var gateway = await Start();
        using var admin = gateway.AdminClient();

        using var response = await admin.GetAsync($"/admin/spend?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task SyncDurability_RecordIsCommittedWhenTheResponseEnds()
    {
        await using var gateway = await Start(null, ("Ledger:Durability", "sync"), ("Ledger:FlushInterval", "00:00:05"));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Chat(gateway)));
        clock.Stop();

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(8, (await Report(gateway))["total"]!["requests"]!.GetValue<long>());
        // Committed as soon as the writer is free (group commit), not after the 5 s flush interval.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"8 sync requests took {clock.Elapsed}");
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task GracefulShutdown_DrainsTheBuffer()
    {
        var gateway = await Start(null, ("Ledger:FlushInterval", "00:01:00"), ("Ledger:BatchSize", "1000"));
        var requests = Enumerable.Range(0, 25).Select(_ => Chat(gateway)).ToArray();
        foreach (var response in await Task.WhenAll(requests))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        await gateway.DisposeAsync(); // graceful stop: the minute-long flush interval has not passed

        var store = new SpendLedgerStore(new GatewayDatabase(Options.Create(new LedgerOptions { ConnectionString = ConnectionString })));
        var total = Assert.Single(await store.TotalsAsync(new SpendQuery(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), []), CancellationToken.None));
        Assert.Equal(25, total.Requests);
        Assert.Equal(25 * ChatCost, total.CostUsd);
    }

    [Fact]
    public async Task ABatchOfManySlices_IsCommittedWhole_WhileServing()
    {
        // A flush interval long enough that the requests land in one or two batches of more than LedgerWriter.SliceRows
        // rows each, which the writer commits as 64-row transactions with a sleep between them.
        await using var gateway = await Start(null, ("Ledger:FlushInterval", "00:00:02"), ("Ledger:BatchSize", "1000"));
        const int Requests = 200;
        using (var gate = new SemaphoreSlim(16))
        {
            await Task.WhenAll(Enumerable.Range(0, Requests).Select(async _ =>
            {
                await gate.WaitAsync();
                try
                {
                    using var response = await Chat(gateway);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var store = new SpendLedgerStore(new GatewayDatabase(Options.Create(new LedgerOptions { ConnectionString = ConnectionString })));
        SpendTotals? total = null;
        for (var i = 0; i < 150 && total?.Requests != Requests; i++)
        {
            await Task.Delay(100);
            total = (await store.TotalsAsync(new SpendQuery(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), []), CancellationToken.None))
                .SingleOrDefault();
        }

        Assert.Equal(Requests, total?.Requests);
        Assert.Equal(Requests * ChatCost, total!.CostUsd);
    }

    [Fact]
    public async Task ProviderWithoutUsage_IsCountedWithTheTokenizer_AndFlaggedEstimated()
    {
        await using var gateway = await Start();
        _upstream.Handler = async (context, received) =>
        {
            var model = received.Json["model"]!.GetValue<string>();
            if (received.Json["stream"]?.GetValue<bool>() == true)
            {
                // A provider that ignores stream_options.include_usage.
                await FakeOpenAiUpstream.WriteSseAsync(context, FakeOpenAiUpstream.StreamEvents(model, includeUsage: false));
                return;
            }

            var body = FakeOpenAiUpstream.ChatBody(model);
            await FakeOpenAiUpstream.WriteJsonAsync(context, body[..body.IndexOf(",\"usage\"", StringComparison.Ordinal)] + "}");
        };

        using (var json = await Chat(gateway))
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
            Assert.DoesNotContain("usage", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var streamed = await Chat(gateway, stream: true))
        {
            Assert.Contains(FakeOpenAiUpstream.CompletionText.Split(' ')[0], await streamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var total = (await ReportWhen(gateway, 2))["total"]!;
        Assert.Equal(2, total["estimated_usage_requests"]!.GetValue<long>());
        // o200k counts of the text, plus OpenAI's chat framing: 3 per message and 3 to prime the reply.
        var o200k = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("o200k_base");
        var prompt = o200k.CountTokens("Summarise the plot of Hamlet in two sentences.") + 3 + 3;
        var fromJson = o200k.CountTokens(FakeOpenAiUpstream.CompletionText);
        var fromStream = o200k.CountTokens(string.Concat(FakeOpenAiUpstream.CompletionText.Split(' ').Select(w => w + " ")));
        Assert.Equal(2 * prompt, total["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(fromJson + fromStream, total["completion_tokens"]!.GetValue<long>());
        Assert.True(total["cost_usd"]!.GetValue<decimal>() > 0);
        Assert.Contains("gateway_usage_estimated_total{route=\"frontier\"} 2", await gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"prompt_tokens\":-1200")]
    [InlineData("\"completion_tokens\":-300")]
    [InlineData("\"prompt_tokens\":2147483647")]
    [InlineData("\"cached_tokens\":-5")]
    public async Task ProviderReportingNegativeOrAbsurdUsage_IsServed_AndCountedByTheGateway(string broken)
    {
        await using var gateway = await Start();
        _upstream.Handler = async (context, received) =>
        {
            var model = received.Json["model"]!.GetValue<string>();
            var field = broken[..(broken.IndexOf(':', StringComparison.Ordinal) + 1)];
            string Break(string json) => System.Text.RegularExpressions.Regex.Replace(json, System.Text.RegularExpressions.Regex.Escape(field) + "[0-9]+", broken);
            if (received.Json["stream"]?.GetValue<bool>() == true)
            {
                await FakeOpenAiUpstream.WriteSseAsync(context, FakeOpenAiUpstream.StreamEvents(model, includeUsage: true).Select(Break));
                return;
            }

            await FakeOpenAiUpstream.WriteJsonAsync(context, Break(FakeOpenAiUpstream.ChatBody(model)));
        };

        using (var json = await Chat(gateway))
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
            Assert.Contains(FakeOpenAiUpstream.CompletionText, await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var streamed = await Chat(gateway, stream: true))
        {
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            Assert.EndsWith("data: [DONE]\n\n", await streamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var total = (await ReportWhen(gateway, 2))["total"]!;
        Assert.Equal(2, total["requests"]!.GetValue<long>());
        // The fake's stream usage has no cached_tokens to break; every broken report is counted by the gateway instead.
        Assert.Equal(broken.Contains("cached", StringComparison.Ordinal) ? 1 : 2, total["estimated_usage_requests"]!.GetValue<long>());
        Assert.InRange(total["cost_usd"]!.GetValue<decimal>(), 0.000001m, 0.01m);
    }

    [Fact]
    public async Task StreamDroppedAfterContent_IsRecordedWithTheDeliveredTokens()
    {
        await using var gateway = await Start();
        _upstream.Handler = async (context, received) =>
        {
            // Role and two content chunks, then the connection drops: no finish, no usage, no [DONE].
            var events = FakeOpenAiUpstream.StreamEvents(received.Json["model"]!.GetValue<string>(), includeUsage: true).Take(3);
            context.Response.ContentType = "text/event-stream";
            foreach (var e in events)
            {
                await context.Response.WriteAsync(e);
                await context.Response.Body.FlushAsync();
                await Task.Delay(100);
            }

            context.Abort();
        };

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "auto", stream = true, messages = new[] { new { role = "user", content = "Summarise the plot of Hamlet in two sentences." } } }),
        };
        using (var streamed = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                var text = await streamed.Content.ReadAsStringAsync();
                Assert.Fail($"the stream ended cleanly: {text}");
            });
        }

        var report = await ReportWhen(gateway, 1);
        var row = report["rows"]!.AsArray().Single()!;
        Assert.Equal(1, report["total"]!["estimated_usage_requests"]!.GetValue<long>());
        Assert.True(report["total"]!["completion_tokens"]!.GetValue<long>() > 0, report.ToJsonString());
        Assert.True(row["cost_usd"]!.GetValue<decimal>() > 0, report.ToJsonString());
        var statuses = (await Report(gateway, "group_by=status"))["rows"]!.AsArray().Select(r => r!["group"]!["status"]!.GetValue<string>());
        Assert.Equal(["502"], statuses);
    }

    [Fact]
    public async Task UpstreamStallingMidBody_Is504_AsDocumented()
    {
        await using var gateway = await Start(null, ("Upstreams:fake:Timeout", "00:00:00.500"));
        _upstream.Handler = async (context, received) =>
        {
            var body = FakeOpenAiUpstream.ChatBody(received.Json["model"]!.GetValue<string>());
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            await context.Response.WriteAsync(body[..40]);
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
        };

        using var response = await Chat(gateway);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        await ReportWhen(gateway, 1);
        var statuses = (await Report(gateway, "group_by=status"))["rows"]!.AsArray().Select(r => r!["group"]!["status"]!.GetValue<string>());
        Assert.Equal(["504"], statuses);
    }

    [Fact]
    public async Task BodyCutShort_IsRecordedWithTheStatusTheClientWasGiven()
    {
        await using var gateway = await Start();
        var uri = new Uri(gateway.BaseUrl);
        using (var tcp = new System.Net.Sockets.TcpClient())
        {
            await tcp.ConnectAsync(uri.Host, uri.Port);
            var stream = tcp.GetStream();
            var head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {GatewayHost.ClientKey}\r\n"
                       + "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"messages\":[";
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
            await stream.FlushAsync();
            await Task.Delay(200);
            tcp.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            var buffer = new byte[4096];
            try
            {
                while (await stream.ReadAsync(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
                // Kestrel may reset a connection whose request it could not read.
            }
        }

        await ReportWhen(gateway, 1);
        var statuses = (await Report(gateway, "group_by=status"))["rows"]!.AsArray().Select(r => r!["group"]!["status"]!.GetValue<string>()).ToArray();
        Assert.Single(statuses);
        Assert.StartsWith("4", statuses[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_AreNotComparedWithAChatPrice_SoRoutingClaimsNoSaving()
    {
        await using var gateway = await Start();

        using var response = await gateway.Client.PostAsJsonAsync("/v1/embeddings", new { model = "embed-model", input = "Hamlet" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var total = (await ReportWhen(gateway, 1))["total"]!;
        // 8 prompt tokens at the embedding model's $0.02 per million; the reference route's chat price would say $0.00002.
        Assert.Equal(0.00000016m, total["cost_usd"]!.GetValue<decimal>());
        Assert.Equal(0.00000016m, total["counterfactual_cost_usd"]!.GetValue<decimal>());
        Assert.Equal(0m, total["saved_usd"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task EstimatesWithoutMaxTokens_LearnTheCompletionLengthOfRecentAnswers()
    {
        await using var gateway = await Start();
        using var admin = gateway.AdminClient();
        async Task<int> EstimatedOutput() => JsonNode.Parse(await (await admin.PostAsJsonAsync("/admin/route/explain",
            new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } })).Content.ReadAsStringAsync())!
            ["trace"]!["estimated_output_tokens"]!.GetValue<int>();

        Assert.Equal(500, await EstimatedOutput()); // nothing served yet: the built-in guess

        await Task.WhenAll(Enumerable.Range(0, OutputTokenStats.MinimumSamples).Select(async _ => (await Chat(gateway)).Dispose()));

        Assert.Equal(300, await EstimatedOutput()); // every fake answer used 300 completion tokens
    }

    [Fact]
    public async Task StoreFailing_RecordsAreRetried_SpilledAtShutdown_AndReplayedAtStart()
    {
        var gateway = await Start(null, ("Ledger:FlushInterval", "00:00:00.050"));
        (await Chat(gateway)).Dispose();
        await ReportWhen(gateway, 1);

        // Break the store under the running gateway: every insert now fails.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "ALTER TABLE spend_ledger RENAME TO spend_ledger_broken;";
            await drop.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < 5; i++)
        {
            using var response = await Chat(gateway);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // traffic is served while the ledger retries
        }

        await Task.Delay(300);
        Assert.Contains("gateway_ledger_records_written_total{result=\"failed\"}", await gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
        using (var ready = await gateway.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // the buffer is far from full
        }

        await gateway.DisposeAsync();
        var spill = Path.Combine(_folder, "ledger-spill");
        Assert.Equal(5, Directory.EnumerateFiles(spill, "spill-*.jsonl").Sum(f => File.ReadAllLines(f).Length));

        // The store mended (the table back: the schema is versioned, so a start does not recreate a table a recorded
        // step made), the next start replays the spill before serving.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var mend = connection.CreateCommand();
            mend.CommandText = "ALTER TABLE spend_ledger_broken RENAME TO spend_ledger;";
            await mend.ExecuteNonQueryAsync();
        }

        await using var restarted = await Start();
        var total = (await Report(restarted))["total"]!;
        Assert.Equal(6, total["requests"]!.GetValue<long>()); // the first record, written before the break, and the five spilled
        Assert.Equal(6 * ChatCost, total["cost_usd"]!.GetValue<decimal>());
        Assert.Empty(Directory.EnumerateFiles(spill));
    }

    private static string BudgetPolicy(decimal daily) => GatewayHost.DefaultPolicy + $$"""

        budgets:
          research: { daily_usd: {{daily.ToString(CultureInfo.InvariantCulture)}}, on_exceed: reject }
        """;

    [Fact]
    public async Task RejectBudget_StopsAtItsLimit_AndSurvivesARestart()
    {
        var policy = BudgetPolicy(0.01m);
        await using (var gateway = await Start(policy))
        {
            Assert.Equal(HttpStatusCode.OK, (await Chat(gateway)).StatusCode);   // $0.00575
            Assert.Equal(HttpStatusCode.OK, (await Chat(gateway)).StatusCode);   // $0.0115 ≥ $0.01 from now on
            using var refused = await Chat(gateway);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("insufficient_quota", error["type"]!.GetValue<string>());
            Assert.Equal("budget_exceeded", error["code"]!.GetValue<string>());
            var metrics = await gateway.Client.GetStringAsync("/metrics");
            Assert.Contains("gateway_budget_remaining_usd{team=\"research\",period=\"daily\"} 0", metrics, StringComparison.Ordinal);
        }

        await using var restarted = await Start(policy);

        Assert.Equal(HttpStatusCode.TooManyRequests, (await Chat(restarted)).StatusCode);
    }

    [Fact]
    public async Task RejectBudget_UnderConcurrentRequests_OverspendsByAtMostTheRequestsInFlight()
    {
        // Each request is estimated at ~$0.005 (500 output tokens assumed) and costs $0.00575; the budget is $0.001.
        await using var gateway = await Start(BudgetPolicy(0.001m));

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Chat(gateway)));

        var served = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(16, served + responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.Equal(1, served); // the first reservation covers the budget: every concurrent request after it is refused
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    private static Task<HttpResponseMessage> ChatWith(GatewayHost gateway, object extra)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(extra)!.AsObject();
        body["model"] = "auto";
        body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Summarise the plot of Hamlet in two sentences." });
        return gateway.Client.PostAsJsonAsync("/v1/chat/completions", body);
    }

    [Fact]
    public async Task RejectBudget_CannotBeBypassedWithNegativeMaxTokens()
    {
        await using var gateway = await Start(BudgetPolicy(0.01m));

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            ChatWith(gateway, i % 2 == 0 ? new { max_tokens = -1_000_000 } : new { max_completion_tokens = -5 })));

        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("integer_below_min_value", error["code"]!.GetValue<string>());
            Assert.StartsWith("max_", error["param"]!.GetValue<string>(), StringComparison.Ordinal);
            response.Dispose();
        }

        Assert.Equal(0, (await Report(gateway))["total"]!["cost_usd"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task RejectBudget_EstimatesEveryChoiceARequestAsksFor()
    {
        // One choice is estimated at ~$0.0051 (500 output tokens at $10/M), so four would be held within $0.02 at once;
        // with n=64 the first request's estimate (~$0.32) holds the whole budget. The upstream answers only once every
        // request has either reached it or been refused, so all of them are in flight together.
        await using var gateway = await Start(BudgetPolicy(0.02m));
        var release = new TaskCompletionSource();
        _upstream.Handler = async (context, _) =>
        {
            await release.Task;
            await FakeOpenAiUpstream.WriteJsonAsync(context, FakeOpenAiUpstream.ChatBody("big-model"));
        };

        var calls = Enumerable.Range(0, 16).Select(_ => ChatWith(gateway, new { n = 64 })).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_upstream.Received.Count + calls.Count(c => c.IsCompleted) < calls.Length && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        release.SetResult();
        var responses = await Task.WhenAll(calls);

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(15, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task BudgetRefusal_ReportsSpendAndInFlightApart_WithEveryDigitOfASmallLimit()
    {
        await using var gateway = await Start(BudgetPolicy(0.0001m));
        Assert.Equal(HttpStatusCode.OK, (await Chat(gateway)).StatusCode); // $0.00575 recorded

        using var refused = await Chat(gateway);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var message = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("daily budget of $0.0001: $0.00575 spent;", message, StringComparison.Ordinal);
        // Nothing is in flight once the request has finished: the gauge shows what was recorded, not a reservation.
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("gateway_budget_spent_usd{team=\"research\",period=\"daily\"} 0.00575", metrics, StringComparison.Ordinal);
    }
}
