using System.Collections.Concurrent;

namespace Gateway.Spend;

/// <summary>A team's recorded spend in the current UTC day and month, and the estimates its requests in flight hold.</summary>
public readonly record struct BudgetState(decimal Day, decimal Month, decimal InFlight)
{
    /// <summary>The period whose limit spend plus in-flight estimates have reached ("daily", "monthly"), or null.</summary>
    public string? Exceeded(decimal? dailyLimit, decimal? monthlyLimit) =>
        Day + InFlight >= dailyLimit ? "daily" : Month + InFlight >= monthlyLimit ? "monthly" : null;
}

/// <summary>
/// Each team's spend in the current UTC day and month, read by routing to enforce budgets: seeded
/// from the ledger at start, fed by every spend record, plus the estimated cost of requests in
/// flight (reservations), so concurrent requests cannot overspend by more than those estimates.
/// </summary>
public sealed class BudgetTracker(TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, TeamSpend> _teams = new(StringComparer.Ordinal);

    /// <summary>Replaces the counters with totals read from the ledger (at start).</summary>
    public void Seed(IReadOnlyDictionary<string, (decimal Day, decimal Month)> spend)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        foreach (var (team, (day, month)) in spend)
        {
            _teams.GetOrAdd(team, _ => new TeamSpend()).Set(day, month, now);
        }
    }

    /// <summary>Holds <paramref name="estimatedUsd"/> against the team until the request is recorded; dispose to release.</summary>
    public Reservation Reserve(string team, decimal estimatedUsd) => TryReserve(team, estimatedUsd, null, null)!;

    /// <summary>
    /// Checks the limits and holds <paramref name="estimatedUsd"/> in one step under the team's lock,
    /// so concurrent requests cannot all pass the check before any of them reserves. Null when the
    /// team's spend (reservations included) has already reached a limit.
    /// </summary>
    public Reservation? TryReserve(string team, decimal estimatedUsd, decimal? dailyLimit, decimal? monthlyLimit)
    {
        // An estimate is never negative: a negative hold would free budget for everyone else.
        estimatedUsd = Math.Max(0, estimatedUsd);
        var spend = _teams.GetOrAdd(team, _ => new TeamSpend());
        return spend.TryReserve(estimatedUsd, dailyLimit, monthlyLimit, timeProvider.GetUtcNow().UtcDateTime)
            ? new Reservation(spend, estimatedUsd)
            : null;
    }

    /// <summary>An estimated cost held against a team's budget while its request runs.</summary>
    public sealed class Reservation : IDisposable
    {
        private TeamSpend? _spend;
        private readonly decimal _amount;

        internal Reservation(TeamSpend spend, decimal amount)
        {
            _spend = spend;
            _amount = amount;
        }

        public void Dispose() => Interlocked.Exchange(ref _spend, null)?.Release(_amount);

        /// <summary>
        /// Counts the request's cost and releases the hold under one lock: a concurrent check sees the cost either in
        /// flight or spent, never both. False when already released (the caller counts the cost on its own).
        /// </summary>
        internal bool Settle(decimal costUsd, DateTimeOffset at)
        {
            if (Interlocked.Exchange(ref _spend, null) is not { } spend)
            {
                return false;
            }

            spend.Settle(Math.Max(0, costUsd), _amount, at.UtcDateTime);
            return true;
        }
    }

    public void Add(string team, decimal costUsd, DateTimeOffset at)
    {
        if (costUsd > 0)
        {
            _teams.GetOrAdd(team, _ => new TeamSpend()).Add(costUsd, at.UtcDateTime);
        }
    }

    /// <summary>USD recorded for <paramref name="team"/> today and this month (UTC); requests in flight are not in it.</summary>
    public (decimal Day, decimal Month) Spent(string team)
    {
        var state = State(team);
        return (state.Day, state.Month);
    }

    /// <summary>What <paramref name="team"/> has spent and what its requests in flight hold, read together.</summary>
    public BudgetState State(string team) =>
        _teams.TryGetValue(team, out var spend) ? spend.Read(timeProvider.GetUtcNow().UtcDateTime) : default;

    internal sealed class TeamSpend
    {
        private readonly Lock _gate = new();
        private DateOnly _day;
        private decimal _dayTotal;
        private (int Year, int Month) _month;
        private decimal _monthTotal;
        private decimal _reserved;

        /// <summary>A hold given back without a cost (its request cost nothing, or failed).</summary>
        public void Release(decimal amount)
        {
            lock (_gate)
            {
                _reserved -= amount;
            }
        }

        public bool TryReserve(decimal amount, decimal? dailyLimit, decimal? monthlyLimit, DateTime now)
        {
            lock (_gate)
            {
                Roll(now);
                if (_dayTotal + _reserved >= dailyLimit || _monthTotal + _reserved >= monthlyLimit)
                {
                    return false;
                }

                _reserved += amount;
                return true;
            }
        }

        public void Set(decimal day, decimal month, DateTime now)
        {
            lock (_gate)
            {
                Roll(now);
                _dayTotal = day;
                _monthTotal = month;
            }
        }

        public void Add(decimal cost, DateTime at) => Settle(cost, 0, at);

        public void Settle(decimal cost, decimal reserved, DateTime at)
        {
            lock (_gate)
            {
                _reserved -= reserved;
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

        public BudgetState Read(DateTime now)
        {
            lock (_gate)
            {
                Roll(now);
                return new BudgetState(_dayTotal, _monthTotal, _reserved);
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
