using Gateway.Policies;
using Gateway.Telemetry;

namespace Gateway.Spend;

/// <summary>
/// The one writer of spend: Prometheus instruments, budget counters (with the soft-threshold
/// warning), and the durable ledger through <see cref="LedgerWriter"/>.
/// </summary>
public sealed class SpendRecorder(
    GatewayMetrics metrics,
    BudgetGate gate,
    OutputTokenStats outputTokens,
    LedgerWriter ledger,
    IPolicyProvider policies,
    ILogger<SpendRecorder> logger) : ISpendRecorder
{
    /// <summary>Share of a budget at which a warning is logged and the metric shows it.</summary>
    public const decimal SoftThreshold = 0.8m;

    public ValueTask RecordAsync(SpendRecord record, BudgetLease? lease = null)
    {
        metrics.RecordRequest(record);
        if (record.Status is >= 200 and < 300 && record.Usage is { } usage)
        {
            outputTokens.Observe(usage.CompletionTokens);
        }

        if (record.CostUsd > 0)
        {
            var budget = policies.Current.Budgets.GetValueOrDefault(record.Team);
            var (dayBefore, monthBefore, day, month) = gate.Recorded(record.Team, record.CostUsd, record.Timestamp, budget, record.KeyId, record.KeyBudget, lease);
            if (budget is not null)
            {
                Watch(budget, "daily", budget.DailyUsd, dayBefore, day);
                Watch(budget, "monthly", budget.MonthlyUsd, monthBefore, month);
            }
        }

        return ledger.EnqueueAsync(record);
    }

    private void Watch(TeamBudget budget, string period, decimal? limit, decimal before, decimal after)
    {
        if (limit is not { } max)
        {
            return;
        }

        metrics.Budget(budget.Team, period, after, max);
        if (max > 0 && before < max * SoftThreshold && after >= max * SoftThreshold)
        {
            Log.BudgetSoftThreshold(logger, budget.Team, period, after, max);
        }
    }
}
