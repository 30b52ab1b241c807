using Gateway.OpenAi;
using Gateway.Policies;

namespace Gateway.Spend;

/// <summary>
/// The one place budgets are enforced on a request: the team's budget state handed to the planner as a fact, the lease
/// held on the estimated cost while the request runs (settled when its record is written, released when disposed), and
/// the one 429 of a <c>reject</c> budget. Routing reads the state it is given; it never touches the counters.
/// </summary>
public sealed class BudgetGate(BudgetTracker tracker)
{
    /// <summary>What the planner sees of <paramref name="team"/>'s budget: its spend and in-flight estimates, or nothing when it has no budget.</summary>
    public BudgetState StateFor(RoutingPolicy policy, string team) =>
        policy.Budgets.ContainsKey(team) ? tracker.State(team) : default;

    /// <summary>
    /// Holds <paramref name="estimatedUsd"/> against the team's budget until the request is recorded; dispose to release.
    /// A <c>reject</c> budget is checked again atomically with the hold (the planner's state may predate a concurrent
    /// request's), and a refusal is the same 429 the planner gives. Teams without a budget hold nothing (and skip the lock).
    /// </summary>
    public IDisposable? Lease(RoutingPolicy policy, string team, decimal estimatedUsd)
    {
        if (policy.Budgets.GetValueOrDefault(team) is not { } budget)
        {
            return null;
        }

        var reject = budget.OnExceed == BudgetAction.Reject;
        return tracker.TryReserve(team, estimatedUsd, reject ? budget.DailyUsd : null, reject ? budget.MonthlyUsd : null)
               ?? throw Exceeded(tracker.State(team), team, budget);
    }

    /// <summary>The one 429 of a <c>reject</c> budget, from the state that refused the request.</summary>
    public static OpenAiException Exceeded(BudgetState state, string team, TeamBudget budget) =>
        state.Exceeded(budget.DailyUsd, null) is not null
            ? OpenAiErrors.BudgetExceeded(team, "daily", state.Day, state.InFlight, budget.DailyUsd!.Value)
            : OpenAiErrors.BudgetExceeded(team, "monthly", state.Month, state.InFlight, budget.MonthlyUsd ?? 0);
}
