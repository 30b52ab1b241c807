using System.Collections.Concurrent;

namespace Gateway.Spend;

/// <summary>
/// Each team's spend in the current UTC day and month, fed by every spend record, read by routing
/// to enforce budgets. In memory: counters restart empty with the process until the ledger
/// (issue #7) rebuilds them at start. Requests in flight are not reserved, so a burst can overshoot
/// a budget by the cost of the requests already admitted.
/// </summary>
public sealed class BudgetTracker(TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, TeamSpend> _teams = new(StringComparer.Ordinal);

    public void Add(string team, decimal costUsd, DateTimeOffset at)
    {
        if (costUsd > 0)
        {
            _teams.GetOrAdd(team, _ => new TeamSpend()).Add(costUsd, at.UtcDateTime);
        }
    }

    /// <summary>USD spent by <paramref name="team"/> today and this month (UTC).</summary>
    public (decimal Day, decimal Month) Spent(string team) =>
        _teams.TryGetValue(team, out var spend) ? spend.Read(timeProvider.GetUtcNow().UtcDateTime) : (0, 0);

    private sealed class TeamSpend
    {
        private readonly Lock _gate = new();
        private DateOnly _day;
        private decimal _dayTotal;
        private (int Year, int Month) _month;
        private decimal _monthTotal;

        public void Add(decimal cost, DateTime at)
        {
            lock (_gate)
            {
                Roll(at);
                if (DateOnly.FromDateTime(at) == _day)
                {
                    _dayTotal += cost;
                }

                if ((at.Year, at.Month) == _month)
                {
                    _monthTotal += cost;
                }
            }
        }

        public (decimal, decimal) Read(DateTime now)
        {
            lock (_gate)
            {
                Roll(now);
                return (_dayTotal, _monthTotal);
            }
        }

        // Periods only move forward: a late record from a previous day still counts in its month if that is current.
        private void Roll(DateTime now)
        {
            var day = DateOnly.FromDateTime(now);
            if (day > _day)
            {
                _day = day;
                _dayTotal = 0;
            }

            if ((now.Year, now.Month).CompareTo(_month) > 0)
            {
                _month = (now.Year, now.Month);
                _monthTotal = 0;
            }
        }
    }
}
