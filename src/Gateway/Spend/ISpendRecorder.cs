namespace Gateway.Spend;

/// <summary>
/// The single entry point for spend: every authenticated request is recorded here exactly once.
/// Returns when the record is safe by the configured durability: buffered (batched) or committed (sync).
/// </summary>
public interface ISpendRecorder
{
    ValueTask RecordAsync(SpendRecord record);
}
