using Gateway.Telemetry;

namespace Gateway.Spend;

/// <summary>Records spend into the Prometheus instruments. The durable ledger joins it in the Spend issue.</summary>
public sealed class MetricsSpendRecorder(GatewayMetrics metrics) : ISpendRecorder
{
    public void Record(SpendRecord record) => metrics.RecordRequest(record);
}
