using Gateway.Testing;
using System.Text;
using System.Text.Json;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;
using Gateway.Spend;
using Gateway.Tests.Policies;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Routing;

/// <summary>The decision engine over a matrix of classifications and request facts.</summary>
public sealed class RouterDecisionTests
{

    // Estimated cost per request (~100 prompt tokens, 500 output): frontier ~$0.0053, mini ~$0.0003, local ~$0.00001.
    private const string PolicyYaml = """
        default_route: frontier
        reference_route: frontier
        objective: { type: min_cost, quality_floor: 0.75 }
        routes:
          frontier:
            kind: hosted
            upstream: openai
            model: gpt-4o
            price: { input_per_mtok: 2.5, output_per_mtok: 10 }
            quality: { default: 0.9 }
            fallbacks: [mini]
          mini:
            kind: hosted
            upstream: openai
            model: gpt-4o-mini
            price: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
            quality: { default: 0.8, math: 0.6 }
            pinnable_by: [research]
          local:
            kind: local
            local_model: llama
            model: llama
            price: { input_per_mtok: 0.01, output_per_mtok: 0.01 }
            quality: { default: 0.4, chat: 0.8 }
            fallbacks: [mini]
        rules:
          - name: hard-to-frontier
            when: { needs_strong: { min: 0.8 } }
            then: { route: frontier }
          - name: tools-stay-hosted
            when: { tools: true }
            then: { exclude: [local] }
          - name: priority
            when: { headers: { x-priority: [high] } }
            then: { quality_floor: 0.95 }
          - name: long-to-mini
            when: { prompt_tokens: { min: 5000 } }
            then: { route: mini }
          - name: support-local
            when: { team: [support], category: [knowledge] }
            then: { route: local }
        budgets:
          research: { daily_usd: 1, on_exceed: downgrade, downgrade_to: local }
          support: { monthly_usd: 5, on_exceed: reject }
        """;

    private static RoutingPolicy Load(bool localConfigured = true, string? yaml = null)
    {
        var result = new PolicyLoader(new StubPolicyEnvironment(["openai"], localConfigured ? ["llama"] : null), TimeProvider.System).Load(yaml ?? PolicyYaml);
        Assert.Empty(result.Errors);
        return result.Policy!;
    }

    private static PromptClassification Classified(string category, float needsStrong = 0)
    {
        var scores = PromptCategories.All.ToDictionary(c => c, c => c == category ? 1f : 0f);
        return new PromptClassification(category, scores, needsStrong, 1f, "test");
    }

    private static RouteDecision Decide(RoutingPolicy policy, PromptClassification? classification, string model = "auto", bool tools = false,
        string team = "research", string key = "research-ci", int promptChars = 300, IHeaderDictionary? headers = null,
        BudgetTracker? budgets = null, DecisionTrace? trace = null)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = new[] { new { role = "user", content = new string('x', promptChars) } },
            ["tools"] = tools ? new[] { new { type = "function", function = new { name = "f" } } } : null,
        });
        using var request = OpenAiRequest.Parse(OpenAiOperation.ChatCompletions, Encoding.UTF8.GetBytes(body));
        return new Router().Decide(policy, request, classification,
            new RequestFacts(team, key, headers, Budget: budgets?.State(team) ?? default), trace);
    }

    public static TheoryData<string, float, bool, string, string> Matrix => new()
    {
        // category, needs_strong, tools → route, what decided
        { "chat", 0f, false, "local", DecisionVia.Objective },       // local reaches 0.8 ≥ 0.75 and is cheapest
        { "chat", 0f, true, "mini", DecisionVia.Objective },         // tools exclude local
        { "coding", 0f, false, "mini", DecisionVia.Objective },      // local 0.4 < floor; mini 0.8 meets it
        { "coding", 0.6f, false, "frontier", DecisionVia.Objective },// hard: mini lowered to 0.8 − 0.6×0.1 = 0.74 < floor
        { "math", 0f, false, "frontier", DecisionVia.Objective },    // mini math 0.6 < floor
        { "math", 0.9f, false, "frontier", DecisionVia.Rule },       // hard-to-frontier pins
        { "writing", 0.3f, false, "mini", DecisionVia.Objective },   // mini lowered to 0.77, still meets the floor
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Decide_Matrix(string category, float needsStrong, bool tools, string expectedRoute, string expectedVia)
    {
        var decision = Decide(Load(), Classified(category, needsStrong), tools: tools);

        Assert.Equal(expectedRoute, decision.Route.Name);
        Assert.Equal(expectedVia, decision.Via);
        Assert.Equal(decision.Route.Model, decision.TargetModel);
        Assert.True(decision.EstimatedCostUsd > 0);
    }

    [Fact]
    public void Decide_NeedsStrong_LowersWeakerRoutesByTheirGapToTheBest()
    {
        var trace = new DecisionTrace();

        Decide(Load(), Classified("coding", 0.5f), trace: trace);

        // frontier 0.9 stays; mini 0.8 − 0.5 × (0.9 − 0.8) = 0.75; local 0.4 − 0.5 × 0.5 = 0.15.
        Assert.Equal(0.9, trace.Candidates.Single(c => c.Route == "frontier").ExpectedQuality, 6);
        Assert.Equal(0.75, trace.Candidates.Single(c => c.Route == "mini").ExpectedQuality, 6);
        Assert.Equal(0.15, trace.Candidates.Single(c => c.Route == "local").ExpectedQuality, 6);
    }

    [Fact]
    public void Decide_RulePin_NamesTheRuleAndShortCircuitsLaterRules()
    {
        var trace = new DecisionTrace();

        var decision = Decide(Load(), Classified("math", 0.95f), trace: trace);

        Assert.Equal("hard-to-frontier", decision.Rule);
        Assert.Contains("rule 'hard-to-frontier' (rules[0]) pins route 'frontier'", decision.Reason, StringComparison.Ordinal);
        Assert.True(trace.Rules[0].Matched);
        Assert.All(trace.Rules.Skip(1), r => Assert.False(r.Evaluated));
        Assert.Equal(["mini"], decision.Fallbacks.Select(f => f.Name));
    }

    [Fact]
    public void Decide_HeaderRaisesTheFloor_AboveEveryRoute_TakesTheBest()
    {
        var headers = new HeaderDictionary { ["X-Priority"] = "high" };
        var trace = new DecisionTrace();

        var decision = Decide(Load(), Classified("chat"), headers: headers, trace: trace);

        Assert.Equal("frontier", decision.Route.Name);
        Assert.Equal(0.95, trace.QualityFloor);
        Assert.Contains("no route reaches the floor 0.95", decision.Reason, StringComparison.Ordinal);
        var priority = trace.Rules.Single(r => r.Name == "priority");
        Assert.True(priority.Matched);
        Assert.Equal(new ConditionTrace("headers.x-priority", "high", "high", true), priority.Conditions.Single());
    }

    [Fact]
    public void Decide_PromptTokens_AreEstimatedFromTheBody()
    {
        Assert.Equal("mini", Decide(Load(), Classified("math"), promptChars: 30_000).Route.Name);
        Assert.Equal("frontier", Decide(Load(), Classified("math"), promptChars: 3_000).Route.Name);
    }

    [Fact]
    public void Decide_TeamAndCategoryRule_MatchesOnlyBoth()
    {
        Assert.Equal("local", Decide(Load(), Classified("knowledge"), team: "support").Route.Name);
        Assert.Equal("mini", Decide(Load(), Classified("knowledge"), team: "research").Route.Name);
        Assert.Equal("mini", Decide(Load(), Classified("coding"), team: "support").Route.Name);
    }

    [Fact]
    public void Decide_ClientPin_IsHonouredWhenTheTeamMayPinIt()
    {
        var decision = Decide(Load(), Classified("chat"), model: "mini");

        Assert.Equal("mini", decision.Route.Name);
        Assert.Equal(DecisionVia.Pinned, decision.Via);
        Assert.Equal("gpt-4o-mini", Decide(Load(), Classified("chat"), model: "gpt-4o-mini").TargetModel);
    }

    [Fact]
    public void Decide_ClientPin_ByATeamNotListed_Is403()
    {
        var error = Assert.Throws<OpenAiException>(() => Decide(Load(), Classified("chat"), model: "gpt-4o-mini", team: "support"));

        Assert.Equal(403, error.Status);
        Assert.Equal("model_not_allowed", error.Code);
        Assert.Equal("permission_error", error.Type);
    }

    [Fact]
    public void Decide_RulePinBeatsTheClientPin()
    {
        Assert.Equal("frontier", Decide(Load(), Classified("math", 0.9f), model: "mini").Route.Name);
    }

    [Fact]
    public void Decide_RejectBudgetExhausted_Is429()
    {
        var budgets = new BudgetTracker(TimeProvider.System);
        budgets.Add("support", 5.01m, DateTimeOffset.UtcNow);

        var error = Assert.Throws<OpenAiException>(() => Decide(Load(), Classified("chat"), team: "support", budgets: budgets));

        Assert.Equal(429, error.Status);
        Assert.Equal("budget_exceeded", error.Code);
        Assert.Contains("monthly budget", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_DowngradeBudgetExhausted_OverridesEvenARulePin()
    {
        var budgets = new BudgetTracker(TimeProvider.System);
        budgets.Add("research", 1m, DateTimeOffset.UtcNow);

        var decision = Decide(Load(), Classified("math", 0.95f), budgets: budgets);

        Assert.Equal("local", decision.Route.Name);
        Assert.Equal(DecisionVia.Budget, decision.Via);
    }

    [Fact]
    public void Decide_UnderBudget_IsUnaffected()
    {
        var budgets = new BudgetTracker(TimeProvider.System);
        budgets.Add("research", 0.5m, DateTimeOffset.UtcNow);

        Assert.Equal(DecisionVia.Rule, Decide(Load(), Classified("math", 0.95f), budgets: budgets).Via);
    }

    [Fact]
    public void Decide_UnavailableRoutes_AreSkippedAndExplained()
    {
        var policy = Load(localConfigured: false);
        var trace = new DecisionTrace();

        var decision = Decide(policy, Classified("chat"), trace: trace);

        Assert.Equal("mini", decision.Route.Name);
        var local = trace.Candidates.Single(c => c.Route == "local");
        Assert.False(local.Available);
        Assert.False(local.Qualifies);
        Assert.NotNull(local.UnavailableReason);
    }

    [Fact]
    public void Decide_RulePinningAnUnavailableRoute_FallsThroughToTheObjective()
    {
        var trace = new DecisionTrace();

        var decision = Decide(Load(localConfigured: false), Classified("knowledge"), team: "support", trace: trace);

        Assert.Equal("mini", decision.Route.Name);
        Assert.Equal(DecisionVia.Objective, decision.Via);
        Assert.Contains("unavailable", trace.Rules.Single(r => r.Name == "support-local").Effect, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_Unclassified_UsesDefaultQuality()
    {
        Assert.Equal("mini", Decide(Load(), classification: null).Route.Name);
    }

    [Fact]
    public void Decide_MaxQuality_TakesTheBestWithinTheCap()
    {
        var yaml = PolicyYaml.Replace("objective: { type: min_cost, quality_floor: 0.75 }", "objective: { type: max_quality, cost_cap_usd: 0.001 }", StringComparison.Ordinal);
        var policy = Load(yaml: yaml);

        var decision = Decide(policy, Classified("coding"));

        Assert.Equal("mini", decision.Route.Name); // frontier (0.9) costs ~$0.005 > cap; mini (0.8) fits
        Assert.Contains("max_quality", decision.Reason, StringComparison.Ordinal);
        Assert.Equal("local", Decide(Load(yaml: yaml.Replace("cost_cap_usd: 0.001", "cost_cap_usd: 0.00001", StringComparison.Ordinal)), Classified("coding")).Route.Name);
    }

    [Fact]
    public void Decide_WithoutObjective_TakesTheDefaultRoute()
    {
        var yaml = """
            default_route: b
            routes:
              a: { kind: hosted, upstream: openai, model: m1, price: { input_per_mtok: 1, output_per_mtok: 1 } }
              b: { kind: hosted, upstream: openai, model: m2, price: { input_per_mtok: 9, output_per_mtok: 9 } }
            """;

        var decision = Decide(Load(yaml: yaml), Classified("chat"));

        Assert.Equal("b", decision.Route.Name);
        Assert.Equal(DecisionVia.Default, decision.Via);
    }

    [Fact]
    public void Decide_UntracedAndTraced_AgreeOnEveryCell()
    {
        var policy = Load();
        foreach (var category in PromptCategories.All)
        {
            foreach (var strong in new[] { 0f, 0.5f, 0.9f })
            {
                foreach (var tools in new[] { false, true })
                {
                    var plain = Decide(policy, Classified(category, strong), tools: tools);
                    var traced = Decide(policy, Classified(category, strong), tools: tools, trace: new DecisionTrace());
                    Assert.Equal((plain.Route.Name, plain.Via, plain.Reason), (traced.Route.Name, traced.Via, traced.Reason));
                }
            }
        }
    }
}
