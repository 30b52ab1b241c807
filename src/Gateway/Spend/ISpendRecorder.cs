namespace Gateway.Spend;

/// <summary>
/// The single entry point for spend: every authenticated request is recorded here exactly once.
/// Returns when the record is safe by the configured durability: buffered (batched) or committed (sync).
/// </summary>
public interface ISpendRecorder
{
    /// <param name="lease">What the request held against its budgets: settled with the record's cost.</param>
    ValueTask RecordAsync(SpendRecord record, BudgetLease? lease = null);
}
