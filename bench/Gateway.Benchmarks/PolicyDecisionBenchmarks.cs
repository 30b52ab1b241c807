using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;
using Gateway.Spend;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// One routing decision on a 50-rule, 5-route policy (ARCHITECTURE §7: ≤ 20 µs), against the same
/// request on a policy without rules (the baseline: objective only). The request matches none of
/// the first 48 rules' conditions, so every rule is evaluated.
/// </summary>
[MemoryDiagnoser]
public class PolicyDecisionBenchmarks
{
    private RoutingPolicy _fiftyRules = null!;
    private RoutingPolicy _noRules = null!;
    private OpenAiRequest _request = null!;
    private PromptClassification _classification = null!;
    private RequestFacts _facts = null!;
    private Router _router = null!;

    internal sealed class Environment : IPolicyEnvironment
    {
        private static readonly HashSet<string> Upstreams = ["openai"];
        private static readonly HashSet<string> LocalModels = ["llama"];

        public IReadOnlyList<IRouteKind> Kinds { get; } =
            [new Gateway.Targets.Hosted.HostedRouteKind(Upstreams), new Gateway.Targets.Local.LocalRouteKind(LocalModels), new Gateway.Targets.Local.AdapterRouteKind(LocalModels, Upstreams)];
    }

    public static string Policy(int rules)
    {
        var yaml = new StringBuilder("""
            default_route: r0
            objective: { type: min_cost, quality_floor: 0.75 }
            routes:
              r0: { kind: hosted, upstream: openai, model: m0, price: { input_per_mtok: 2.5, output_per_mtok: 10 }, quality: { default: 0.92 } }
              r1: { kind: hosted, upstream: openai, model: m1, price: { input_per_mtok: 0.15, output_per_mtok: 0.6 }, quality: { default: 0.8, math: 0.7 } }
              r2: { kind: hosted, upstream: openai, model: m2, price: { input_per_mtok: 0.4, output_per_mtok: 1.6 }, quality: { default: 0.85 } }
              r3: { kind: local, local_model: llama, model: m3, price: { input_per_mtok: 0.02, output_per_mtok: 0.02 }, quality: { default: 0.5, chat: 0.8 } }
              r4: { kind: local, local_model: llama, model: m4, price: { input_per_mtok: 0.03, output_per_mtok: 0.03 }, quality: { default: 0.55, writing: 0.8 } }

            """);
        if (rules > 0)
        {
            yaml.AppendLine("rules:");
        }

        string[] conditions =
        [
            "category: [math, reasoning], needs_strong: { min: 0.7 }",
            "team: [finance, legal], category: [extraction]",
            "tools: true",
            "prompt_tokens: { min: 20000 }",
            "headers: { x-priority: [high, urgent] }",
            "key: [batch-job, nightly]",
            "stream: true, category: [writing]",
        ];
        for (var i = 0; i < rules - 2; i++)
        {
            yaml.AppendLine($"  - name: rule-{i}");
            yaml.AppendLine($"    when: {{ {conditions[i % conditions.Length]} }}");
            yaml.AppendLine($"    then: {{ {(i % 2 == 0 ? "route: r0" : "exclude: [r4]")} }}");
        }

        if (rules >= 2)
        {
            // The last two match: an exclusion and a floor change, then the objective decides.
            yaml.AppendLine("  - name: exclude-local-for-research\n    when: { team: [research] }\n    then: { exclude: [r4] }");
            yaml.AppendLine("  - name: raise-floor-for-coding\n    when: { category: [coding, chat] }\n    then: { quality_floor: 0.78 }");
        }

        return yaml.ToString();
    }

    [GlobalSetup]
    public void Setup()
    {
        var loader = new PolicyLoader(new Environment(), TimeProvider.System);
        _fiftyRules = loader.Load(Policy(50)).Policy ?? throw new InvalidOperationException(string.Join("\n", loader.Load(Policy(50)).Errors));
        _noRules = loader.Load(Policy(0)).Policy!;
        _request = OpenAiRequest.Parse(OpenAiOperation.ChatCompletions, Prompts.Request(Prompts.TwoKilobytes));
        var scores = PromptCategories.All.ToDictionary(c => c, c => c == "coding" ? 0.7f : 0.05f);
        _classification = new PromptClassification("coding", scores, 0.3f, 0.7f, "bench");
        _facts = new RequestFacts("research", "research-ci", new HeaderDictionary { ["x-request-source"] = "bench" });
        _router = new Router();
        if (_router.Decide(_fiftyRules, _request, _classification, _facts).Via != DecisionVia.Objective)
        {
            throw new InvalidOperationException("the benchmark request should fall through to the objective");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _request.Dispose();

    [Benchmark(Baseline = true, Description = "decide, objective only (0 rules)")]
    public RouteDecision NoRules() => _router.Decide(_noRules, _request, _classification, _facts);

    [Benchmark(Description = "decide, 50 rules")]
    public RouteDecision FiftyRules() => _router.Decide(_fiftyRules, _request, _classification, _facts);

    [Benchmark(Description = "explain, 50 rules (trace on)")]
    public RouteDecision Explain() => _router.Decide(_fiftyRules, _request, _classification, _facts, new DecisionTrace());
}
