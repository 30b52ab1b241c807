using System.Text.Json.Serialization;

namespace Gateway.Routing;

/// <summary>
/// Everything the router considered for one request, for <c>POST /admin/route/explain</c>. Only
/// filled when asked for: the request path passes no trace and builds none of these strings.
/// </summary>
public sealed class DecisionTrace
{
    [JsonPropertyName("estimated_prompt_tokens")] public int EstimatedPromptTokens { get; set; }
    [JsonPropertyName("estimated_output_tokens")] public int EstimatedOutputTokens { get; set; }
    [JsonPropertyName("objective")] public string? Objective { get; set; }
    [JsonPropertyName("quality_floor")] public double? QualityFloor { get; set; }
    [JsonPropertyName("cost_cap_usd")] public decimal? CostCapUsd { get; set; }
    [JsonPropertyName("budget")] public BudgetTrace? Budget { get; set; }

    /// <summary>The calling key's own budget (its <c>team</c> is <c>key:</c> + the key's name), when it has one.</summary>
    [JsonPropertyName("key_budget")] public BudgetTrace? KeyBudget { get; set; }
    [JsonPropertyName("pinned_by_client")] public string? PinnedByClient { get; set; }
    [JsonPropertyName("rules")] public List<RuleTrace> Rules { get; } = [];
    [JsonPropertyName("candidates")] public List<CandidateTrace> Candidates { get; } = [];
}

public sealed record ConditionTrace(
    [property: JsonPropertyName("field")] string Field,
    [property: JsonPropertyName("expected")] string Expected,
    [property: JsonPropertyName("actual")] string Actual,
    [property: JsonPropertyName("matched")] bool Matched);

public sealed class RuleTrace
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("index")] public required int Index { get; init; }
    [JsonPropertyName("matched")] public bool Matched { get; set; }
    [JsonPropertyName("evaluated")] public bool Evaluated { get; set; } = true;
    [JsonPropertyName("conditions")] public List<ConditionTrace> Conditions { get; } = [];
    [JsonPropertyName("effect")] public string? Effect { get; set; }
}

public sealed record CandidateTrace(
    [property: JsonPropertyName("route")] string Route,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("available")] bool Available,
    [property: JsonPropertyName("unavailable_reason")] string? UnavailableReason,
    [property: JsonPropertyName("excluded_by")] string? ExcludedBy,
    [property: JsonPropertyName("expected_quality")] double ExpectedQuality,
    [property: JsonPropertyName("estimated_cost_usd")] decimal EstimatedCostUsd,
    [property: JsonPropertyName("qualifies")] bool Qualifies);

public sealed record BudgetTrace(
    [property: JsonPropertyName("team")] string Team,
    [property: JsonPropertyName("spent_today_usd")] decimal SpentToday,
    [property: JsonPropertyName("daily_usd")] decimal? Daily,
    [property: JsonPropertyName("spent_this_month_usd")] decimal SpentThisMonth,
    [property: JsonPropertyName("monthly_usd")] decimal? Monthly,
    [property: JsonPropertyName("in_flight_usd")] decimal InFlight,
    [property: JsonPropertyName("exceeded")] string? Exceeded,
    [property: JsonPropertyName("on_exceed")] string OnExceed);
