using Gateway.Hosting;
using Gateway.OpenAi;
using Gateway.Policies;
using StackExchange.Redis;

namespace Gateway.Spend;

/// <summary>
/// The one place budgets are enforced on a request: the team's budget state handed to the planner as a fact, the lease
/// held on the estimated cost while the request runs (settled when its record is written, released when disposed), and
/// the one 429 of a <c>reject</c> budget. Routing reads the state it is given; it never touches the counters.
/// With <c>Redis:ConnectionString</c> the day and month spend and the reservations in flight are shared by every
/// replica (integer nano-dollars, checked and reserved in one Lua script), so N replicas cannot spend a budget N times;
/// without it they are this process's (<see cref="BudgetTracker"/>).
/// </summary>
public sealed class BudgetGate(BudgetTracker tracker, SharedState shared, TimeProvider timeProvider, BudgetAlerts? alerts = null)
{
    private const decimal NanosPerUsd = 1_000_000_000m;

    /// <summary>How long a team's in-flight total outlives its last reservation: what a crashed replica's unreleased holds can cost.</summary>
    private static readonly TimeSpan InFlightLifetime = TimeSpan.FromMinutes(10);

    private static readonly LuaScript Reserve = LuaScript.Prepare("""
        local day = tonumber(redis.call('GET', @day) or '0')
        local month = tonumber(redis.call('GET', @month) or '0')
        local inflight = tonumber(redis.call('GET', @inflight) or '0')
        local dailyLimit = tonumber(@dailyLimit)
        local monthlyLimit = tonumber(@monthlyLimit)
        if (dailyLimit >= 0 and day + inflight >= dailyLimit) or (monthlyLimit >= 0 and month + inflight >= monthlyLimit) then
          return {0, day, month, inflight}
        end
        inflight = redis.call('INCRBY', @inflight, @amount)
        redis.call('PEXPIRE', @inflight, @lifetime)
        return {1, day, month, inflight}
        """);

    /// <summary>What the planner sees of <paramref name="team"/>'s budget: its spend and in-flight estimates, or nothing when it has no budget.</summary>
    /// <param name="exact">Read the shared totals even for a <c>reject</c> budget (an explanation shows them).</param>
    public ValueTask<BudgetState> StateForAsync(RoutingPolicy policy, string team, bool exact = false) =>
        policy.Budgets.GetValueOrDefault(team) is { } budget ? StateAsync(budget, exact) : default;

    /// <summary>
    /// The spend and in-flight estimates counted for <paramref name="budget"/> (a team's, or a key's). With Redis, a
    /// <c>reject</c> budget is judged on this replica's counters here (a lower bound of the fleet's: what it recorded
    /// and seeded) and authoritatively by the lease, whose script checks the shared totals and holds in one round trip;
    /// reading them here as well would cost a second round trip and change no outcome. A <c>downgrade</c> budget has
    /// no lease check, so its shared totals are read here.
    /// </summary>
    public ValueTask<BudgetState> StateAsync(TeamBudget budget, bool exact = false) =>
        !shared.Enabled || (budget.OnExceed == BudgetAction.Reject && !exact) ? new(tracker.State(budget.Team)) : SharedStateAsync(budget.Team);

    private async ValueTask<BudgetState> SharedStateAsync(string team)
    {
        var keys = Keys(team);
        return await shared.RunAsync("budget_state", async db =>
        {
            var values = await db.StringGetAsync([keys.Day, keys.Month, keys.InFlight]);
            return new BudgetState(Usd(values[0]), Usd(values[1]), Usd(values[2]));
        }, () => tracker.State(team));
    }

    /// <summary>Counts a recorded cost and releases a shared hold in one step: no script ever sees the cost twice, or not at all.</summary>
    private static readonly LuaScript Settle = LuaScript.Prepare("""
        local day = redis.call('INCRBY', @day, @amount)
        local month = redis.call('INCRBY', @month, @amount)
        redis.call('EXPIRE', @day, @dayLifetime)
        redis.call('EXPIRE', @month, @monthLifetime)
        if tonumber(@held) > 0 then
          redis.call('DECRBY', @inflight, @held)
        end
        return {day, month}
        """);

    /// <summary>
    /// Holds <paramref name="estimatedUsd"/> against the team's budget until the request is recorded (its record settles
    /// the lease, <see cref="Recorded"/>); dispose to release what was not settled.
    /// A <c>reject</c> budget is checked again atomically with the hold (the planner's state may predate a concurrent
    /// request's), and a refusal is the same 429 the planner gives. Teams without a budget hold nothing (and skip the lock).
    /// </summary>
    /// <param name="keyBudget">The calling key's own budget, held beside the team's: both or neither.</param>
    public async ValueTask<BudgetLease?> LeaseAsync(RoutingPolicy policy, string team, decimal estimatedUsd, TeamBudget? keyBudget = null)
    {
        var teamLease = policy.Budgets.GetValueOrDefault(team) is { } budget ? await LeaseAsync(budget, estimatedUsd) : null;
        if (keyBudget is null)
        {
            return teamLease is null ? null : new BudgetLease(teamLease, null);
        }

        try
        {
            return new BudgetLease(teamLease, await LeaseAsync(keyBudget, estimatedUsd));
        }
        catch
        {
            teamLease?.Dispose();
            throw;
        }
    }

    private async ValueTask<IDisposable> LeaseAsync(TeamBudget budget, decimal estimatedUsd)
    {
        var team = budget.Team;
        var reject = budget.OnExceed == BudgetAction.Reject;
        decimal? daily = reject ? budget.DailyUsd : null, monthly = reject ? budget.MonthlyUsd : null;
        if (!shared.Enabled)
        {
            return tracker.TryReserve(team, estimatedUsd, daily, monthly) ?? throw Exceeded(tracker.State(team), budget);
        }

        var keys = Keys(team);
        var nanos = Nanos(Math.Max(0, estimatedUsd));
        var (lease, refused) = await shared.RunAsync<(IDisposable?, BudgetState?)>("budget_reserve", async db =>
        {
            var result = (RedisResult[])(await db.ScriptEvaluateAsync(Reserve, new
            {
                day = keys.Day, month = keys.Month, inflight = keys.InFlight, amount = nanos, lifetime = (long)InFlightLifetime.TotalMilliseconds,
                dailyLimit = daily is { } d ? Nanos(d) : -1, monthlyLimit = monthly is { } m ? Nanos(m) : -1,
            }))!;
            return (long)result[0] == 1
                ? (new SharedLease(shared, keys.InFlight, nanos), null)
                : (null, new BudgetState((long)result[1] / NanosPerUsd, (long)result[2] / NanosPerUsd, (long)result[3] / NanosPerUsd));
        }, () =>
        {
            // Redis unreachable, failing open: this replica's own counters decide, as without Redis.
            var local = tracker.TryReserve(team, estimatedUsd, daily, monthly);
            return (local, local is null ? tracker.State(team) : null);
        });
        return lease ?? throw Exceeded(refused ?? tracker.State(team), budget);
    }

    /// <summary>
    /// A recorded cost: this process's counters, and the shared ones when Redis is configured; the request's
    /// <paramref name="lease"/> is settled in the same step as each counter (under its lock, or in its Redis script), so
    /// a concurrent request never sees the cost both spent and still in flight (refused while budget is left) nor in
    /// neither (admitted past the limit). The totals before and after
    /// it (the shared ones with Redis, so that a fleet's spend crosses the thresholds, not each replica's share) feed the
    /// budget's alerts.
    /// </summary>
    /// <param name="keyId">The key that spent it: every key's spend is counted too (<see cref="TeamBudget.KeySubject"/>), so a
    /// budget given to a key later starts from what it has already spent.</param>
    /// <param name="keyBudget">That key's own budget, if it has one (for its alerts).</param>
    /// <param name="lease">What the request held against these budgets (<see cref="LeaseAsync(RoutingPolicy, string, decimal, TeamBudget?)"/>).</param>
    /// <returns>This process's day and month totals of the team before and after the cost (what its budget metrics show).</returns>
    public (decimal DayBefore, decimal MonthBefore, decimal Day, decimal Month) Recorded(string team, decimal costUsd, DateTimeOffset at, TeamBudget? budget = null,
        string? keyId = null, TeamBudget? keyBudget = null, BudgetLease? lease = null)
    {
        var (dayBefore, monthBefore) = tracker.Spent(team);
        AddLocal(team, costUsd, at, lease?.Team);
        var (dayAfter, monthAfter) = tracker.Spent(team);
        var key = keyId is null ? null : TeamBudget.KeySubject(keyId);
        var (keyDayBefore, keyMonthBefore) = key is null ? default : tracker.Spent(key);
        if (key is not null)
        {
            AddLocal(key, costUsd, at, lease?.Key);
        }

        var utc = at.UtcDateTime;
        if (!shared.Enabled || costUsd <= 0)
        {
            if (costUsd > 0)
            {
                if (budget is not null)
                {
                    Alert(budget, dayBefore, dayAfter, monthBefore, monthAfter, utc);
                }

                if (keyBudget is not null)
                {
                    Alert(keyBudget, keyDayBefore, keyDayBefore + costUsd, keyMonthBefore, keyMonthBefore + costUsd, utc);
                }
            }

            return (dayBefore, monthBefore, dayAfter, monthAfter);
        }

        var nanos = Nanos(costUsd);
        shared.Send("budget_record", async db =>
        {
            // The team's counters and the key's in one batch: one round trip.
            var batch = db.CreateBatch();
            var teamTotals = Increment(batch, Keys(team, utc), nanos, lease?.Team);
            var keyTotals = key is null ? null : Increment(batch, Keys(key, utc), nanos, lease?.Key);
            batch.Execute();
            await AlertAsync(budget, teamTotals, nanos, utc);
            await AlertAsync(keyBudget, keyTotals, nanos, utc);
        });
        return (dayBefore, monthBefore, dayAfter, monthAfter);
    }

    /// <summary>This process's counter of <paramref name="subject"/>, settling the request's local hold on it if it has one.</summary>
    private void AddLocal(string subject, decimal costUsd, DateTimeOffset at, IDisposable? hold)
    {
        if (hold is not BudgetTracker.Reservation reservation || !reservation.Settle(costUsd, at))
        {
            tracker.Add(subject, costUsd, at);
        }
    }

    /// <summary>The shared counters of a subject, with its shared hold (if the request took one) released in the same script.</summary>
    private static Task<RedisResult> Increment(IBatch batch, (RedisKey Day, RedisKey Month, RedisKey InFlight) keys, long nanos, IDisposable? hold) =>
        batch.ScriptEvaluateAsync(Settle, new
        {
            day = keys.Day, month = keys.Month, inflight = keys.InFlight, amount = nanos,
            held = hold is SharedLease shared ? shared.Take() : 0,
            dayLifetime = (long)TimeSpan.FromDays(3).TotalSeconds, monthLifetime = (long)TimeSpan.FromDays(35).TotalSeconds,
        });

    private async Task AlertAsync(TeamBudget? budget, Task<RedisResult>? totals, long nanos, DateTime at)
    {
        if (totals is null)
        {
            return;
        }

        var result = (RedisResult[])(await totals)!;
        var (day, month) = ((long)result[0], (long)result[1]);
        if (budget is not null)
        {
            Alert(budget, (day - nanos) / NanosPerUsd, day / NanosPerUsd, (month - nanos) / NanosPerUsd, month / NanosPerUsd, at);
        }
    }

    private void Alert(TeamBudget budget, decimal dayBefore, decimal day, decimal monthBefore, decimal month, DateTime at)
    {
        alerts?.Crossed(budget, "daily", budget.DailyUsd, dayBefore, day, at);
        alerts?.Crossed(budget, "monthly", budget.MonthlyUsd, monthBefore, month, at);
    }

    /// <summary>At start: this process's counters from the ledger (teams, and keys as <see cref="TeamBudget.KeySubject"/>); the shared ones too, unless another replica (or traffic) already set them.</summary>
    public async Task SeedAsync(IReadOnlyDictionary<string, (decimal Day, decimal Month)> spend)
    {
        tracker.Seed(spend);
        if (!shared.Enabled)
        {
            return;
        }

        await shared.RunAsync("budget_seed", async db =>
        {
            foreach (var (team, (day, month)) in spend)
            {
                var keys = Keys(team);
                await db.StringSetAsync(keys.Day, Nanos(day), TimeSpan.FromDays(3), When.NotExists);
                await db.StringSetAsync(keys.Month, Nanos(month), TimeSpan.FromDays(35), When.NotExists);
            }

            return true;
        }, () => false);
    }

    /// <summary>The one 429 of a <c>reject</c> budget, from the state that refused the request.</summary>
    public static OpenAiException Exceeded(BudgetState state, TeamBudget budget) =>
        state.Exceeded(budget.DailyUsd, null) is not null
            ? OpenAiErrors.BudgetExceeded(budget.Holder, "daily", state.Day, state.InFlight, budget.DailyUsd!.Value)
            : OpenAiErrors.BudgetExceeded(budget.Holder, "monthly", state.Month, state.InFlight, budget.MonthlyUsd ?? 0);

    private (RedisKey Day, RedisKey Month, RedisKey InFlight) Keys(string team, DateTime? at = null)
    {
        var now = at ?? timeProvider.GetUtcNow().UtcDateTime;
        // One hash tag per team: a Redis Cluster keeps a team's keys on one shard, so the script may touch them together.
        return ($"gw:{{{team}}}:day:{now:yyyyMMdd}", $"gw:{{{team}}}:month:{now:yyyyMM}", $"gw:{{{team}}}:inflight");
    }

    private static long Nanos(decimal usd) => (long)Math.Round(usd * NanosPerUsd, MidpointRounding.AwayFromZero);

    private static decimal Usd(RedisValue value) => value.TryParse(out long nanos) ? nanos / NanosPerUsd : 0;

    /// <summary>A shared hold: settled by its request's record (<see cref="Take"/>), or released (decremented) when disposed.</summary>
    private sealed class SharedLease(SharedState shared, RedisKey inflight, long nanos) : IDisposable
    {
        private int _released;

        /// <summary>The amount held, once: the caller releases it (with the recorded cost). Zero when already released.</summary>
        public long Take() => Interlocked.Exchange(ref _released, 1) == 0 ? nanos : 0;

        public void Dispose()
        {
            if (Take() is > 0 and var held)
            {
                shared.Send("budget_release", db => db.StringDecrementAsync(inflight, held));
            }
        }
    }
}

/// <summary>
/// What a request holds against its team's budget and its key's own while it runs. Its record settles both
/// (<see cref="BudgetGate.Recorded"/>); disposing releases whatever was not settled (a request that cost nothing).
/// </summary>
public sealed class BudgetLease : IDisposable
{
    internal BudgetLease(IDisposable? team, IDisposable? key) => (Team, Key) = (team, key);

    internal IDisposable? Team { get; }

    internal IDisposable? Key { get; }

    public void Dispose()
    {
        Team?.Dispose();
        Key?.Dispose();
    }
}
