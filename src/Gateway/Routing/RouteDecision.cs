using Gateway.Policies;

namespace Gateway.Routing;

/// <summary>Where one request goes, why, and what to try if that fails.</summary>
/// <param name="Via">What decided: <c>rule</c>, <c>pinned</c> (by the client), <c>objective</c>, <c>default</c>, <c>budget</c>, <c>model</c> (embeddings).</param>
/// <param name="Rule">The rule that pinned the route, when <paramref name="Via"/> is <c>rule</c>.</param>
/// <param name="EstimatedCostUsd">Before the call: estimated prompt tokens and max_tokens (or the objective's expected output) at the route's prices.</param>
/// <param name="EstimatedTokens">Those estimated prompt and output tokens together (what a tokens-per-minute limit reserves).</param>
public sealed record RouteDecision(
    PolicyRoute Route,
    string TargetModel,
    string Reason,
    IReadOnlyList<PolicyRoute> Fallbacks,
    string Via = DecisionVia.Default,
    string? Rule = null,
    decimal EstimatedCostUsd = 0,
    double? ExpectedQuality = null,
    double? ReferenceQuality = null,
    int EstimatedTokens = 0);

public static class DecisionVia
{
    public const string Rule = "rule";
    public const string Pinned = "pinned";
    public const string Objective = "objective";
    public const string Default = "default";
    public const string Budget = "budget";
    public const string Model = "model";
    public const string FollowUp = "follow_up";
}

/// <summary>Facts about the caller that rules match on; the request itself supplies the rest.</summary>
/// <param name="RetrievalRelevance">Best retrieval score from the knowledge base, when a local route was a candidate and retrieval ran.</param>
/// <param name="FollowUpOf">Where the response a Responses follow-up continues was created, when this gateway served it.</param>
/// <param name="Budget">The team's spend and in-flight holds, read once before planning: the planner never reads live counters.</param>
/// <param name="TypicalOutputTokens">Completion tokens recent answers used (90th percentile), for estimates without <c>max_tokens</c>.</param>
/// <param name="KeyBudget">The calling key's own budget (a runtime key's), judged on <paramref name="KeySpend"/> beside the team's.</param>
public sealed record RequestFacts(string Team, string KeyId, IHeaderDictionary? Headers = null, double? RetrievalRelevance = null,
    Spend.BudgetState Budget = default, int? TypicalOutputTokens = null, ResponseOrigin? FollowUpOf = null,
    TeamBudget? KeyBudget = null, Spend.BudgetState KeySpend = default);
