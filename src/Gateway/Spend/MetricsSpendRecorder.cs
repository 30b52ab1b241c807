using Gateway.Telemetry;

namespace Gateway.Spend;

/// <summary>Records spend into the Prometheus instruments and the budget counters. The durable ledger joins it in the Spend issue.</summary>
public sealed class MetricsSpendRecorder(GatewayMetrics metrics, BudgetTracker budgets) : ISpendRecorder
{
    public void Record(SpendRecord record)
    {
        metrics.RecordRequest(record);
        budgets.Add(record.Team, record.CostUsd, record.Timestamp);
    }
}
