namespace Gateway.Spend;

/// <summary>One served (or refused) request, as the ledger and the spend metrics see it.</summary>
public sealed record SpendRecord
{
    public required string RequestId { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required string KeyId { get; init; }
    public required string Team { get; init; }

    /// <summary>The calling key's own budget, if it has one: its counters and alerts (not a ledger column; the key is).</summary>
    public Policies.TeamBudget? KeyBudget { get; init; }
    public required string Route { get; init; }
    public required string Model { get; init; }
    public string? Category { get; init; }
    public float? NeedsStrong { get; init; }
    public required int Status { get; init; }
    public Usage? Usage { get; init; }
    public decimal CostUsd { get; init; }
    public decimal? CounterfactualCostUsd { get; init; }
    public required TimeSpan Latency { get; init; }
    public TimeSpan? TimeToFirstByte { get; init; }
    public string? FallbackFrom { get; init; }
    public required string PolicyVersion { get; init; }
    public bool Stream { get; init; }

    /// <summary>The OpenAI endpoint called: <c>chat.completions</c>, <c>completions</c>, <c>embeddings</c> or <c>responses</c>.</summary>
    public string? Operation { get; init; }

    /// <summary>Expected quality (0–1) of the chosen route for this prompt, as the policy rates it; null when not rated.</summary>
    public double? ExpectedQuality { get; init; }

    /// <summary>The same for the policy's reference route: the quality the counterfactual would have bought.</summary>
    public double? ReferenceQuality { get; init; }

    /// <summary>The end user the client named (OpenAI's <c>user</c> field).</summary>
    public string? EndUser { get; init; }

    /// <summary>The request's <c>x-gateway-tags</c>, sorted and comma-joined (<c>checkout,experiment-7</c>).</summary>
    public string? Tags { get; init; }

    /// <summary>The request's <c>metadata</c> object, as JSON.</summary>
    public string? Metadata { get; init; }

    /// <summary>What the planner saw (compact JSON, no prompt text), for replaying drafts over recorded traffic; null when no plan was made.</summary>
    public string? DecisionFacts { get; init; }
}
