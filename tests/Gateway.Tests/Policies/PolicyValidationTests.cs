using Gateway.Testing;
using Gateway.Policies;

namespace Gateway.Tests.Policies;

/// <summary>Each kind of error, on a policy that is otherwise valid, reported with its path.</summary>
public sealed class PolicyValidationTests
{
    private static readonly PolicyLoader Loader = new(new StubPolicyEnvironment(["openai"], ["llama"]), TimeProvider.System);

    /// <summary>A valid policy with an objective, three routes, two rules and a budget; each case edits one line.</summary>
    private const string Base = """
        default_route: frontier
        reference_route: frontier
        objective: { type: min_cost, quality_floor: 0.7 }
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
            quality: { default: 0.7, math: 0.5 }
          local-rag:
            kind: local
            local_model: llama
            knowledge: handbook
            model: llama-3.2-1b
            price: { input_per_mtok: 0.01, output_per_mtok: 0.01 }
            quality: { default: 0.5, knowledge: 0.8 }
        rules:
          - name: hard-to-frontier
            when: { needs_strong: { min: 0.8 } }
            then: { route: frontier }
          - name: kb-questions
            when: { category: [knowledge], retrieval_relevance: { min: 0.5 } }
            then: { route: local-rag }
        budgets:
          research: { daily_usd: 10, monthly_usd: 200, on_exceed: downgrade, downgrade_to: mini }
        """;

    [Fact]
    public void Base_IsValid()
    {
        var result = Loader.Load(Base);

        Assert.Empty(result.Errors);
        Assert.Equal(2, result.Policy!.Rules.Count);
        Assert.Equal(ObjectiveType.MinCost, result.Policy.Objective!.Type);
    }

    public static TheoryData<string, string, string, string> Cases => new()
    {
        // name, replace this, with this → expected error (prefix)
        { "negative price", "input_per_mtok: 0.01,", "input_per_mtok: -1,", "routes.local-rag.price.input_per_mtok: must be >= 0" },
        { "missing output price", "{ input_per_mtok: 0.15, output_per_mtok: 0.6 }", "{ input_per_mtok: 0.15 }", "routes.mini.price.output_per_mtok: is required" },
        { "unknown upstream", "upstream: openai\n    model: gpt-4o-mini", "upstream: azure\n    model: gpt-4o-mini", "routes.mini.upstream: 'azure' is not configured" },
        { "local without model", "    local_model: llama\n", "", "routes.local-rag.local_model: is required" },
        { "unknown fallback", "fallbacks: [mini]", "fallbacks: [ghost]", "routes.frontier.fallbacks[0]: unknown route 'ghost'" },
        { "fallback cycle", "quality: { default: 0.7, math: 0.5 }", "quality: { default: 0.7, math: 0.5 }\n    fallbacks: [frontier]", "routes.frontier.fallbacks: cycle frontier -> mini -> frontier" },
        { "quality above 1", "quality: { default: 0.9 }", "quality: { default: 1.5 }", "routes.frontier.quality.default: must be between 0 and 1" },
        { "unknown quality category", "knowledge: 0.8", "trivia: 0.8", "routes.local-rag.quality.trivia: unknown category" },
        { "quality missing with objective", "quality: { default: 0.9 }", "quality: { chat: 0.9 }", "routes.frontier.quality: is required when an objective is set" },
        { "bad latency class", "model: gpt-4o\n", "model: gpt-4o\n    latency_class: warp\n", "routes.frontier.latency_class: 'warp' is not one of" },
        { "objective type", "type: min_cost", "type: cheapest", "objective.type: must be min_cost or max_quality" },
        { "objective floor", "quality_floor: 0.7 }", "quality_floor: 7 }", "objective.quality_floor: must be between 0 and 1" },
        { "max_quality without cap", "type: min_cost, quality_floor: 0.7", "type: max_quality", "objective.cost_cap_usd: is required for max_quality" },
        { "rule unknown route", "then: { route: local-rag }", "then: { route: moon }", "rules[1] (kb-questions).then.route: unknown route 'moon'" },
        { "rule unknown category", "category: [knowledge]", "category: [gossip]", "rules[1] (kb-questions).when.category: unknown category 'gossip'" },
        { "rule empty list", "category: [knowledge]", "category: []", "rules[1] (kb-questions).when.category: can never match: the list is empty" },
        { "rule inverted range", "needs_strong: { min: 0.8 }", "needs_strong: { min: 0.8, max: 0.2 }", "rules[0] (hard-to-frontier).when.needs_strong: can never match: min 0.8 is above max 0.2" },
        { "rule range outside 0..1", "needs_strong: { min: 0.8 }", "needs_strong: { min: 2 }", "rules[0] (hard-to-frontier).when.needs_strong.min: must be between 0 and 1" },
        { "rule without action", "then: { route: frontier }", "then: {}", "rules[0] (hard-to-frontier).then: give at least one action" },
        { "rule without name", "- name: hard-to-frontier\n", "- name: ''\n", "rules[0].name: is required" },
        { "duplicate rule name", "name: kb-questions", "name: hard-to-frontier", "rules[1].name: 'hard-to-frontier' is already used by rules[0]" },
        { "unreachable after catch-all", "    when: { needs_strong: { min: 0.8 } }\n", "", "rules[1] (kb-questions): can never match: rules[0] (hard-to-frontier) has no conditions" },
        { "rule model nobody can request", "category: [knowledge],", "model: [gpt-99], category: [knowledge],", "rules[1] (kb-questions).when.model: can never match" },
        { "rule excludes everything", "then: { route: frontier }", "then: { exclude: [frontier, mini, local-rag] }", "rules[0] (hard-to-frontier).then.exclude: excludes every route" },
        { "budget action", "on_exceed: downgrade", "on_exceed: shrug", "budgets.research.on_exceed: must be reject or downgrade" },
        { "budget negative", "daily_usd: 10", "daily_usd: -10", "budgets.research.daily_usd: must be >= 0" },
        { "budget downgrade target", "downgrade_to: mini", "downgrade_to: ghost", "budgets.research.downgrade_to: unknown route 'ghost'" },
        { "unknown default", "default_route: frontier", "default_route: ghost", "default_route: unknown route 'ghost'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_EachErrorKind_IsReportedWithItsPath(string name, string find, string replace, string expected)
    {
        Assert.Contains(find, Base, StringComparison.Ordinal);
        var yaml = Base.Replace(find, replace, StringComparison.Ordinal);

        var result = Loader.Load(yaml);

        Assert.True(result.Policy is null, $"{name}: expected an error, the policy loaded");
        Assert.Contains(result.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SeveralErrors_AreAllReportedTogether()
    {
        var yaml = Base
            .Replace("input_per_mtok: 0.01,", "input_per_mtok: -1,", StringComparison.Ordinal)
            .Replace("fallbacks: [mini]", "fallbacks: [ghost]", StringComparison.Ordinal)
            .Replace("type: min_cost", "type: cheapest", StringComparison.Ordinal)
            .Replace("on_exceed: downgrade", "on_exceed: shrug", StringComparison.Ordinal);

        var errors = Loader.Load(yaml).Errors;

        Assert.Contains("routes.local-rag.price.input_per_mtok: must be >= 0", errors);
        Assert.Contains("routes.frontier.fallbacks[0]: unknown route 'ghost'", errors);
        Assert.Contains(errors, e => e.StartsWith("objective.type:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("budgets.research.on_exceed:", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_RetrievalRuleWithoutAnyLocalRoute_CanNeverMatch()
    {
        const string yaml = """
            default_route: a
            routes:
              a: { kind: hosted, upstream: openai, model: m, price: { input_per_mtok: 1, output_per_mtok: 1 } }
            rules:
              - name: kb
                when: { retrieval_relevance: { min: 0.5 } }
                then: { route: a }
            """;

        Assert.Contains(Loader.Load(yaml).Errors, e => e.StartsWith("rules[0] (kb).when.retrieval_relevance: can never match", StringComparison.Ordinal));
    }

    [Fact]
    public void ShippedPolicy_IsValid_AndExplainsItsUnavailableRoutes()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "policies", PolicyOptions.RoutingFileName);

        var result = Loader.Load(File.ReadAllText(path));

        Assert.Empty(result.Errors);
        var policy = result.Policy!;
        Assert.NotNull(policy.Objective);
        Assert.Contains(policy.Routes, r => r.Kind == RouteKinds.Hosted);
        Assert.Contains(policy.Routes, r => r.Kind == RouteKinds.Local);
        Assert.Contains(policy.Routes, r => r.Kind == RouteKinds.Adapter);
        Assert.NotEmpty(policy.Rules);
        Assert.NotEmpty(policy.Budgets);
    }
}
