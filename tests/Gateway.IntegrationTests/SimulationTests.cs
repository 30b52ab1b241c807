using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary><c>POST /admin/policy/simulate</c>: recorded traffic replayed under a draft policy, repriced, budgets run forward.</summary>
public sealed class SimulationTests : GatewayWithUpstream
{
    // The fake upstream reports 1200 prompt (200 cached) and 300 completion tokens per chat answer.
    private const string Cheaper = """
        default_route: frontier
        reference_route: frontier
        objective: { type: min_cost, quality_floor: 0.7 }
        routes:
          cheap:
            kind: hosted
            upstream: fake
            model: small-model-2
            price: { input_per_mtok: 0.1, output_per_mtok: 0.4 }
            quality: { default: 0.8 }
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00, cached_input_per_mtok: 1.25 }
            quality: { default: 0.95 }
            models:
              embed-model: { input_per_mtok: 0.02, output_per_mtok: 0 }
        rules:
          - name: never-matches
            when: { team: [nobody] }
            then: { route: frontier }
        """;

    private async Task Traffic(int chats)
    {
        for (var i = 0; i < chats; i++)
        {
            using var response = await Gateway.Client.PostAsJsonAsync("/v1/chat/completions",
                new { model = "auto", messages = new[] { new { role = "user", content = $"Tell me a fact about the number {i}." } } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var admin = Gateway.AdminClient();
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            var total = JsonNode.Parse(await admin.GetStringAsync("/admin/spend"))!["total"]!["requests"]!.GetValue<long>();
            if (total >= chats)
            {
                return;
            }
        }
    }

    private async Task<HttpResponseMessage> Simulate(string? draft, string query = "")
    {
        using var admin = Gateway.AdminClient();
        var content = draft is null ? new ByteArrayContent([]) : new StringContent(draft, Encoding.UTF8, "application/yaml");
        return await admin.PostAsync("/admin/policy/simulate" + query, content);
    }

    [Fact]
    public async Task Draft_IsReplayedOverRecordedTraffic_AndRepriced()
    {
        await Traffic(5);

        using var response = await Simulate(Cheaper);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(5, result["rows"]!.GetValue<long>());
        Assert.Equal(5, result["replayed"]!.GetValue<long>());
        Assert.Equal(5, result["route_changed"]!.GetValue<long>());
        Assert.Equal(5 * 0.00575m, result["actual_cost_usd"]!.GetValue<decimal>());
        // 1200 × $0.10 + 300 × $0.40 per million = $0.00024 a request on the cheaper route.
        Assert.Equal(5 * 0.00024m, result["simulated_cost_usd"]!.GetValue<decimal>());
        var cheap = Assert.Single(result["by_route"]!.AsArray())!;
        Assert.Equal(("cheap", 5L), (cheap["key"]!.GetValue<string>(), cheap["requests"]!.GetValue<long>()));
        // 0.8 on every category, lowered by needs_strong × (0.95 − 0.8) for harder prompts; above the 0.7 floor.
        Assert.InRange(result["expected_quality"]!.GetValue<double>(), 0.7, 0.8);
        Assert.Equal(["never-matches"], result["rules_never_matched"]!.AsArray().Select(r => r!.GetValue<string>()));
    }

    [Fact]
    public async Task WithoutADraft_TheLivePolicyIsReplayed_AndReproducesWhatHappened()
    {
        await Traffic(3);

        using var response = await Simulate(null);

        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, result["route_changed"]!.GetValue<long>());
        Assert.Equal(result["actual_cost_usd"]!.GetValue<decimal>(), result["simulated_cost_usd"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task ADraftBudget_IsRunForward_AndTheRequestsItWouldRefuseAreCounted()
    {
        await Traffic(4);
        var draft = GatewayHost.DefaultPolicy + """

            budgets:
              research: { daily_usd: 0.01, on_exceed: reject }
            """;

        using var response = await Simulate(draft);

        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // $0.00575 a request: the second crosses $0.01, the third and fourth are refused.
        var breach = Assert.Single(result["budgets_breached"]!.AsArray())!;
        Assert.Equal(("research", "daily"), (breach["team"]!.GetValue<string>(), breach["period"]!.GetValue<string>()));
        Assert.Equal(2, result["refused"]!["429 budget_exceeded"]!.GetValue<long>());
        Assert.Equal(2 * 0.00575m, result["simulated_cost_usd"]!.GetValue<decimal>());
    }

    [Theory]
    [InlineData("routes: {}", null)]
    [InlineData(null, "?from=2026-02-01&to=2026-01-01")]
    [InlineData(null, "?from=yesterday")]
    public async Task BadDraftsAndRanges_Are400_WithEveryError(string? draft, string? query)
    {
        using var response = await Simulate(draft, query ?? "");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
        if (draft is not null)
        {
            Assert.Equal("invalid_policy", error["code"]!.GetValue<string>());
            Assert.True(error["errors"]!.AsArray().Count >= 2);
        }
    }

    [Fact]
    public async Task AnEmptyRange_AnswersWithZeroes()
    {
        using var response = await Simulate(Cheaper, "?from=2020-01-01&to=2020-01-02");

        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, result["rows"]!.GetValue<long>());
        Assert.Empty(result["by_route"]!.AsArray());
    }

    [Fact]
    public async Task SpendReport_SaysWhatRoutingSaved_AtWhatExpectedQualityChange()
    {
        using var admin = Gateway.AdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/admin/policy", new StringContent(Cheaper, Encoding.UTF8, "application/yaml"))).StatusCode);
        await Traffic(3);

        var total = JsonNode.Parse(await admin.GetStringAsync("/admin/spend?group_by=route"))!["total"]!;

        // Served on 'cheap' (0.8, lowered for harder prompts) instead of the reference 'frontier' (0.95).
        Assert.Equal(3 * (0.00575m - 0.00024m), total["saved_usd"]!.GetValue<decimal>());
        Assert.InRange(total["expected_quality_change"]!.GetValue<double>(), -0.3, -0.15);
    }

    [Fact]
    public async Task RequireSimulation_AppliesOnlyASimulatedDocument_AndAuditsTheSummary()
    {
        await using var gateway = await GatewayHost.StartAsync(Upstream.BaseUrl, settings: new Dictionary<string, string?> { ["Policies:RequireSimulation"] = "true" });
        using var admin = gateway.AdminClient();
        StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/yaml");
        async Task<string> SimulationOf(string? draft) =>
            JsonNode.Parse(await (await admin.PostAsync("/admin/policy/simulate", draft is null ? new ByteArrayContent([]) : Yaml(draft))).Content.ReadAsStringAsync())!
                ["simulation_id"]!.GetValue<string>();

        using (var unsimulated = await admin.PutAsync("/admin/policy", Yaml(Cheaper)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unsimulated.StatusCode);
            Assert.Contains("simulation_required", await unsimulated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var ofTheLivePolicy = await SimulationOf(null);
        using (var mismatch = await admin.PutAsync($"/admin/policy?simulation={ofTheLivePolicy}", Yaml(Cheaper)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
            Assert.Contains("simulation_mismatch", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var id = await SimulationOf(Cheaper);
        using (var applied = await admin.PutAsync($"/admin/policy?simulation={id}", Yaml(Cheaper)))
        {
            Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        }

        var newest = JsonNode.Parse(await admin.GetStringAsync("/admin/policy/history"))!["entries"]![0]!;
        Assert.StartsWith($"{id}: ", newest["simulation"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
