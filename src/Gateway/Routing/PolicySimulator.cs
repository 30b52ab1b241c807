using System.Text.Json.Serialization;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Spend;

namespace Gateway.Routing;

/// <summary>
/// Replays recorded traffic through the pure <see cref="Router"/> under a policy: every ledger row in a range that
/// kept its <see cref="DecisionFacts"/> is decided again, its recorded tokens repriced at the route the policy picks,
/// and each team's spend run forward in time so budgets bite when they would have. Rows are streamed from the
/// database; memory holds only the aggregates.
/// </summary>
public sealed class PolicySimulator(Router router, SpendLedgerStore ledger)
{
    public async Task<SimulationResult> RunAsync(RoutingPolicy policy, DateTimeOffset from, DateTimeOffset to, string? team, CancellationToken cancellationToken)
    {
        var result = new Accumulator(policy);
        var spend = new Dictionary<string, TeamRun>(StringComparer.Ordinal);
        var matched = new bool[policy.Rules.Count];
        await foreach (var row in ledger.RowsAsync(from, to, team, cancellationToken))
        {
            result.Rows++;
            result.ActualCost += row.CostUsd;
            if (DecisionFacts.Parse(row.DecisionFacts) is not { } facts)
            {
                result.WithoutFacts++;
                continue;
            }

            var run = spend.TryGetValue(row.Team, out var existing) ? existing : spend[row.Team] = new TeamRun();
            run.Roll(row.At);
            var classification = facts.Classification();
            var requestFacts = new RequestFacts(row.Team, row.KeyId, facts.HeaderDictionary(), facts.Relevance, new BudgetState(run.Day, run.Month, 0),
                facts.TypicalOutputTokens);
            Array.Clear(matched);
            RouteDecision decision;
            try
            {
                decision = router.Decide(policy, facts.Shape, classification, requestFacts, null, matched);
            }
            catch (OpenAiException refused)
            {
                result.Refused(refused.Status, refused.Code);
                result.Rules(matched, null);
                continue;
            }

            var cost = Pricing.Cost(decision.Route.PriceFor(decision.TargetModel), row.Usage);
            var before = (run.Day, run.Month);
            run.Add(cost);
            result.Served(decision, classification?.Category ?? "", row, cost);
            result.Rules(matched, decision.Rule);
            if (policy.Budgets.GetValueOrDefault(row.Team) is { } budget)
            {
                result.Budget(budget, "daily", budget.DailyUsd, before.Day, run.Day, row.At);
                result.Budget(budget, "monthly", budget.MonthlyUsd, before.Month, run.Month, row.At);
            }
        }

        return result.Result(from, to);
    }

    /// <summary>A team's simulated spend in the current UTC day and month of the replay.</summary>
    private sealed class TeamRun
    {
        private DateOnly _day;
        private (int, int) _month;

        public decimal Day { get; private set; }

        public decimal Month { get; private set; }

        public void Roll(DateTimeOffset at)
        {
            var day = DateOnly.FromDateTime(at.UtcDateTime);
            if (day != _day)
            {
                _day = day;
                Day = 0;
            }

            if ((at.Year, at.Month) != _month)
            {
                _month = (at.Year, at.Month);
                Month = 0;
            }
        }

        public void Add(decimal cost)
        {
            Day += cost;
            Month += cost;
        }
    }

    private sealed class Accumulator(RoutingPolicy policy)
    {
        private readonly Dictionary<string, SimulationGroup> _routes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SimulationGroup> _teams = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SimulationGroup> _categories = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _refusals = new(StringComparer.Ordinal);
        private readonly long[] _matched = new long[policy.Rules.Count];
        private readonly long[] _decided = new long[policy.Rules.Count];
        private readonly Dictionary<(string Team, string Period), DateTimeOffset> _breaches = [];
        private decimal _draftCost;
        private double _quality;
        private long _qualityRows;
        private long _changed;

        public long Rows { get; set; }

        public long WithoutFacts { get; set; }

        public decimal ActualCost { get; set; }

        public void Served(RouteDecision decision, string category, SpendLedgerStore.LedgerRow row, decimal cost)
        {
            _draftCost += cost;
            if (decision.ExpectedQuality is { } q)
            {
                _quality += q;
                _qualityRows++;
            }

            if (decision.Route.Name != row.Route)
            {
                _changed++;
            }

            Add(_routes, decision.Route.Name, decision, row, cost);
            Add(_teams, row.Team, decision, row, cost);
            Add(_categories, category, decision, row, cost);
        }

        public void Refused(int status, string? code)
        {
            var key = $"{status} {code}";
            _refusals[key] = _refusals.GetValueOrDefault(key) + 1;
        }

        public void Rules(bool[] matched, string? decidedBy)
        {
            for (var i = 0; i < matched.Length; i++)
            {
                if (matched[i])
                {
                    _matched[i]++;
                    _decided[i] += policy.Rules[i].Name == decidedBy ? 1 : 0;
                }
            }
        }

        public void Budget(TeamBudget budget, string period, decimal? limit, decimal before, decimal after, DateTimeOffset at)
        {
            if (limit is { } max && before < max && after >= max)
            {
                _breaches.TryAdd((budget.Team, period), at);
            }
        }

        private static void Add(Dictionary<string, SimulationGroup> groups, string key, RouteDecision decision, SpendLedgerStore.LedgerRow row, decimal cost)
        {
            var group = groups.TryGetValue(key, out var g) ? g : groups[key] = new SimulationGroup { Key = key };
            group.Requests++;
            group.CostUsd += cost;
            group.ActualCostUsd += row.CostUsd;
            if (decision.ExpectedQuality is { } q)
            {
                group.QualitySum += q;
                group.QualityRows++;
            }
        }

        public SimulationResult Result(DateTimeOffset from, DateTimeOffset to) => new(
            policy.Version, from, to, Rows, Rows - WithoutFacts, WithoutFacts, _changed,
            Round(ActualCost), Round(_draftCost), _qualityRows == 0 ? null : Math.Round(_quality / _qualityRows, 4),
            [.. _routes.Values.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Freeze())],
            [.. _teams.Values.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Freeze())],
            [.. _categories.Values.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Freeze())],
            [.. policy.Rules.Select((r, i) => new SimulatedRule(r.Name, _matched[i], _decided[i]))],
            [.. policy.Rules.Where((_, i) => _matched[i] == 0).Select(r => r.Name)],
            _refusals.OrderBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => r.Value),
            [.. _breaches.OrderBy(b => b.Value).Select(b => new SimulatedBreach(b.Key.Team, b.Key.Period, b.Value))]);

        private static decimal Round(decimal usd) => Math.Round(usd, 9);
    }
}

/// <summary>Aggregates of one route, team or category under the simulated policy, beside what actually happened to the same rows.</summary>
public sealed class SimulationGroup
{
    [JsonPropertyName("key")] public required string Key { get; init; }
    [JsonPropertyName("requests")] public long Requests { get; set; }
    [JsonPropertyName("cost_usd")] public decimal CostUsd { get; set; }
    [JsonPropertyName("actual_cost_usd")] public decimal ActualCostUsd { get; set; }
    [JsonPropertyName("expected_quality")] public double? ExpectedQuality { get; private set; }
    [JsonIgnore] public double QualitySum { get; set; }
    [JsonIgnore] public long QualityRows { get; set; }

    internal SimulationGroup Freeze()
    {
        ExpectedQuality = QualityRows == 0 ? null : Math.Round(QualitySum / QualityRows, 4);
        CostUsd = Math.Round(CostUsd, 9);
        return this;
    }
}

public sealed record SimulatedRule(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("matched")] long Matched,
    [property: JsonPropertyName("decided")] long Decided);

public sealed record SimulatedBreach(
    [property: JsonPropertyName("team")] string Team,
    [property: JsonPropertyName("period")] string Period,
    [property: JsonPropertyName("first_breached_at")] DateTimeOffset At);

public sealed record SimulationResult(
    [property: JsonPropertyName("policy_version")] string PolicyVersion,
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("replayed")] long Replayed,
    [property: JsonPropertyName("without_facts")] long WithoutFacts,
    [property: JsonPropertyName("route_changed")] long RouteChanged,
    [property: JsonPropertyName("actual_cost_usd")] decimal ActualCostUsd,
    [property: JsonPropertyName("simulated_cost_usd")] decimal SimulatedCostUsd,
    [property: JsonPropertyName("expected_quality")] double? ExpectedQuality,
    [property: JsonPropertyName("by_route")] IReadOnlyList<SimulationGroup> ByRoute,
    [property: JsonPropertyName("by_team")] IReadOnlyList<SimulationGroup> ByTeam,
    [property: JsonPropertyName("by_category")] IReadOnlyList<SimulationGroup> ByCategory,
    [property: JsonPropertyName("rules")] IReadOnlyList<SimulatedRule> Rules,
    [property: JsonPropertyName("rules_never_matched")] IReadOnlyList<string> RulesNeverMatched,
    [property: JsonPropertyName("refused")] IReadOnlyDictionary<string, long> Refused,
    [property: JsonPropertyName("budgets_breached")] IReadOnlyList<SimulatedBreach> BudgetsBreached)
{
    /// <summary>Set by the endpoint: pass it to <c>PUT /admin/policy?simulation=</c> to apply this draft with this evidence.</summary>
    [JsonPropertyName("simulation_id")]
    public string? SimulationId { get; init; }
}
