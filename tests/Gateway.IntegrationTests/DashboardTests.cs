using Gateway.Testing;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>
/// The Grafana dashboards' queries against a real Prometheus (Debian's package; .ci/run installs
/// it) scraping a running gateway under generated traffic: every expression must return data.
/// </summary>
public sealed class DashboardTests
{
    private static readonly string Dashboards = Path.Combine(AppContext.BaseDirectory, "dashboards");

    private const string Policy = """
        default_route: frontier
        reference_route: frontier
        objective: { type: min_cost, quality_floor: 0.7 }
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00 }
            quality: { default: 0.95 }
          mini:
            kind: hosted
            upstream: fake
            model: small-model
            price: { input_per_mtok: 0.15, output_per_mtok: 0.60 }
            quality: { default: 0.8, math: 0.5 }
          flaky:
            kind: hosted
            upstream: down
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00 }
            quality: { default: 0.9 }
            fallbacks: [frontier]
        rules:
          - name: priority-to-flaky
            when: { headers: { x-priority: [high] } }
            then: { route: flaky }
        budgets:
          research: { daily_usd: 1000, monthly_usd: 20000, on_exceed: downgrade, downgrade_to: mini }
        """;

    private static string Require(string tool) =>
        new[] { "/usr/bin", "/usr/local/bin", "/bin" }.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"'{tool}' is not installed: apt-get install prometheus (.ci/run does)");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task PromtoolAcceptsThePrometheusConfig()
    {
        using var process = Process.Start(new ProcessStartInfo(Require("promtool"), ["check", "config", Path.Combine(Dashboards, "prometheus.yml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, output);
    }

    [Fact]
    public void EveryPanel_UsesTheProvisionedDatasource()
    {
        var provisioned = File.ReadAllText(Path.Combine(Dashboards, "grafana", "provisioning", "datasources", "prometheus.yml"));
        foreach (var (file, panel) in Panels())
        {
            var uid = panel["datasource"]!["uid"]!.GetValue<string>();
            Assert.Contains($"uid: {uid}", provisioned, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(panel["title"]?.GetValue<string>()), $"{file}: a panel has no title");
        }
    }

    private static IEnumerable<(string File, JsonNode Panel)> Panels() =>
        Directory.EnumerateFiles(Path.Combine(Dashboards, "grafana", "dashboards"), "*.json")
            .SelectMany(f => JsonNode.Parse(File.ReadAllText(f))!["panels"]!.AsArray().Select(p => (Path.GetFileName(f), p!)));

    [Fact]
    public async Task EveryDashboardQuery_ReturnsData_FromARealPrometheus()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(upstream.BaseUrl, Policy, new Dictionary<string, string?>
        {
            ["Upstreams:down:BaseUrl"] = "http://127.0.0.1:9/v1", // discard port: connection refused
            ["Upstreams:down:ApiKey"] = "unused-key",
        });
        var folder = TestFolders.Create("gateway-prometheus-").FullName;
        var port = FreePort();
        var target = new Uri(gateway.BaseUrl).Authority;
        await File.WriteAllTextAsync(Path.Combine(folder, "prometheus.yml"), $$"""
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: gateway
                metrics_path: /metrics
                static_configs: [ { targets: ["{{target}}"] } ]
            """);
        using var prometheus = Process.Start(new ProcessStartInfo(Require("prometheus"),
        [
            $"--config.file={Path.Combine(folder, "prometheus.yml")}",
            $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await Until(async () => (await api.GetAsync("/-/ready")).IsSuccessStatusCode, "Prometheus did not become ready");

            await Traffic(gateway, TimeSpan.FromSeconds(5));
            await Until(async () => await Count(api, "count_over_time(up{job=\"gateway\"}[1m])") >= 5, "Prometheus did not scrape the gateway");
            await Task.Delay(1500); // one more scrape after the last request

            var failures = new List<string>();
            foreach (var (file, panel) in Panels())
            {
                foreach (var query in panel["targets"]!.AsArray())
                {
                    var expr = query!["expr"]!.GetValue<string>().Replace("$__range", "5m", StringComparison.Ordinal);
                    var response = JsonNode.Parse(await api.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(expr)}"))!;
                    if (response["status"]!.GetValue<string>() != "success" || response["data"]!["result"]!.AsArray().Count == 0)
                    {
                        failures.Add($"{file} / {panel["title"]}: {expr} → {response.ToJsonString()[..Math.Min(200, response.ToJsonString().Length)]}");
                    }
                }
            }

            Assert.True(failures.Count == 0, "queries without data:\n" + string.Join("\n", failures));

            // What the finance dashboard shows is what the ledger holds, to the cent.
            using var admin = gateway.AdminClient();
            var ledgerTotal = JsonNode.Parse(await admin.GetStringAsync("/admin/spend?group_by="))!["total"]!["cost_usd"]!.GetValue<decimal>();
            var scraped = (decimal)await Count(api, "sum(gateway_spend_usd_total)");
            Assert.True(ledgerTotal > 0);
            Assert.Equal(Math.Round(ledgerTotal, 2), Math.Round(scraped, 2));
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task Traffic(GatewayHost gateway, TimeSpan duration)
    {
        string[] prompts = ["hi there!", "What is 348 multiplied by 27?", "Write a haiku about the sea.", "Fix this Python: print(x[5])"];
        var stop = DateTime.UtcNow + duration;
        for (var i = 0; DateTime.UtcNow < stop; i++)
        {
            var model = i % 11 == 10 ? "no-such-model" : "auto";
            var prompt = prompts[i % prompts.Length];
            // Every seventh request uses the Responses API: its calls are counted like chat, by operation.
            using var request = i % 7 == 6
                ? new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = JsonContent.Create(new { model, stream = i % 2 == 0, input = prompt }) }
                : new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                {
                    Content = JsonContent.Create(new { model, stream = i % 3 == 0, messages = new[] { new { role = "user", content = prompt } } }),
                };
            if (i % 5 == 0)
            {
                request.Headers.Add("x-priority", "high");
            }

            using var response = await gateway.Client.SendAsync(request);
            await response.Content.ReadAsStringAsync();
            await Task.Delay(20);
        }
    }

    private static async Task<double> Count(HttpClient api, string expr)
    {
        var result = JsonNode.Parse(await api.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(expr)}"))!["data"]!["result"]!.AsArray();
        return result.Count == 0 ? 0 : double.Parse(result[0]!["value"]![1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task Until(Func<Task<bool>> condition, string failure)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
        }

        Assert.Fail(failure);
    }
}
