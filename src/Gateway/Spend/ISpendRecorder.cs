namespace Gateway.Spend;

/// <summary>
/// The single entry point for spend: every request that reached routing is recorded here exactly once.
/// Implementations must not block the request path.
/// </summary>
public interface ISpendRecorder
{
    void Record(SpendRecord record);
}
