using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Hosting;
using Gateway.OpenAi;
using Gateway.Policies;
using StackExchange.Redis;

namespace Gateway.Auth;

/// <summary>
/// Requests-per-minute and tokens-per-minute limits of a client key and of its team (the policy's <c>rate_limits</c>),
/// enforced before a route runs. Each limit is a
/// token bucket holding a minute's allowance and refilled continuously, as OpenAI's limits behave (a burst may use the
/// whole minute at once, then requests pass as the allowance returns). A tokens limit reserves the request's estimate
/// (prompt plus <c>max_tokens</c>, or the typical answer) and settles to the actual usage when the request is recorded.
/// With <c>Redis:ConnectionString</c> the buckets live in Redis (one Lua script takes atomically, on Redis's clock), so the
/// limits hold whatever the number of replicas; without it they are this process's, and N replicas allow up to N times
/// a limit.
/// </summary>
public sealed class RateLimiter(TimeProvider timeProvider, SharedState? shared = null)
{
    /// <summary>
    /// Every bucket of a request in one round trip: refill each on Redis's clock, then take from all of them, or from none
    /// when one is short. KEYS: the buckets; ARGV: limit and amount per bucket. Returns the first short bucket (1-based,
    /// 0 when none) and every level after.
    /// </summary>
    private const string TakeScript = """
        local now = redis.call('TIME')
        now = tonumber(now[1]) + tonumber(now[2]) / 1000000
        local levels = {}
        local refused = 0
        for i = 1, #KEYS do
          local limit = tonumber(ARGV[2 * i - 1])
          local amount = tonumber(ARGV[2 * i])
          local state = redis.call('HMGET', KEYS[i], 'level', 'at')
          local level = tonumber(state[1])
          local at = tonumber(state[2]) or now
          if level == nil then level = limit end
          level = math.min(limit, level + (now - at) * limit / 60)
          levels[i] = level
          if refused == 0 and level < amount then refused = i end
        end
        local out = {refused}
        for i = 1, #KEYS do
          if refused == 0 then levels[i] = levels[i] - tonumber(ARGV[2 * i]) end
          redis.call('HSET', KEYS[i], 'level', tostring(levels[i]), 'at', tostring(now))
          redis.call('EXPIRE', KEYS[i], 120)
          out[i + 1] = tostring(levels[i])
        end
        return out
        """;

    private readonly ConcurrentDictionary<string, Bucket> _local = new(StringComparer.Ordinal);

    /// <summary>One allowance a request draws on: whose (<c>key</c> or <c>team</c>), which (<c>requests</c> or <c>tokens</c>), its size and the draw.</summary>
    private readonly record struct Limit(string Scope, string Owner, string Team, string Kind, long Max, long Amount)
    {
        // One hash tag per team: on a Redis Cluster a request's buckets (its key's and its team's) share a slot.
        public RedisKey RedisKey => $"gw:rl:{{{Team}}}:{Scope}:{Owner}:{Kind}";

        public string LocalKey => $"{Scope}:{Owner}:{Kind}";
    }

    /// <summary>
    /// Takes one request and <paramref name="estimatedTokens"/> from the key's allowances and its team's
    /// (<paramref name="team"/>); null when neither has limits. With <c>Redis:ConnectionString</c> the allowances are
    /// shared by every replica (one script, one round trip).
    /// </summary>
    /// <exception cref="OpenAiException">429 <c>rate_limit_exceeded</c> with Retry-After when an allowance is used up; nothing is taken.</exception>
    public async ValueTask<RateLease?> AcquireAsync(ClientIdentity identity, int estimatedTokens, TeamRateLimit? team = null)
    {
        var limits = new List<Limit>(4);
        void Add(string scope, string owner, long? rpm, long? tpm)
        {
            if (rpm is { } requests)
            {
                limits.Add(new Limit(scope, owner, identity.Team, "requests", requests, 1));
            }

            if (tpm is { } tokens)
            {
                // A request larger than the whole minute's allowance reserves the allowance: refusing it forever would be worse.
                limits.Add(new Limit(scope, owner, identity.Team, "tokens", tokens, Math.Min(estimatedTokens, tokens)));
            }
        }

        Add("key", identity.KeyId, identity.RpmLimit, identity.TpmLimit);
        Add("team", identity.Team, team?.Rpm, team?.Tpm);
        if (limits.Count == 0)
        {
            return null;
        }

        var (states, refused) = shared is { Enabled: true }
            ? await shared.RunAsync("rate_limit", db => TakeSharedAsync(db, limits), () => TakeLocal(limits))
            : TakeLocal(limits);
        if (refused >= 0)
        {
            throw Exceeded(limits[refused], states[refused]);
        }

        return new RateLease(Headers(limits, states), used =>
        {
            foreach (var limit in limits.Where(l => l.Kind == "tokens"))
            {
                Give(limit, limit.Amount - used);
            }
        });
    }

    /// <summary>Synchronous form for callers without shared state (tests, benchmarks).</summary>
    public RateLease? Acquire(ClientIdentity identity, int estimatedTokens, TeamRateLimit? team = null) =>
        AcquireAsync(identity, estimatedTokens, team).AsTask().GetAwaiter().GetResult();

    /// <summary>This process's buckets, in order; a refusal gives back what the earlier ones took.</summary>
    private (Bucket.State[] States, int Refused) TakeLocal(List<Limit> limits)
    {
        var now = timeProvider.GetTimestamp();
        var states = new Bucket.State[limits.Count];
        for (var i = 0; i < limits.Count; i++)
        {
            states[i] = _local.GetOrAdd(limits[i].LocalKey, _ => new Bucket()).TryTake(limits[i].Max, limits[i].Amount, now, timeProvider);
            if (!states[i].Taken)
            {
                for (var j = 0; j < i; j++)
                {
                    _local[limits[j].LocalKey].Give(limits[j].Amount);
                }

                return (states, i);
            }
        }

        return (states, -1);
    }

    private static async Task<(Bucket.State[] States, int Refused)> TakeSharedAsync(IDatabase db, List<Limit> limits)
    {
        var keys = limits.Select(l => l.RedisKey).ToArray();
        var values = limits.SelectMany(l => new RedisValue[] { l.Max, l.Amount }).ToArray();
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(TakeScript, keys, values))!;
        var refused = (int)(long)result[0] - 1;
        var states = new Bucket.State[limits.Count];
        for (var i = 0; i < limits.Count; i++)
        {
            var level = double.Parse((string)result[i + 1]!, CultureInfo.InvariantCulture);
            states[i] = Bucket.StateOf(refused < 0 || i != refused, level, limits[i].Max, limits[i].Amount);
        }

        return (states, refused);
    }

    /// <summary>For each kind, the allowance closest to running out: what OpenAI's <c>x-ratelimit-*</c> headers describe.</summary>
    private static List<KeyValuePair<string, string>> Headers(List<Limit> limits, Bucket.State[] states)
    {
        var headers = new List<KeyValuePair<string, string>>(6);
        foreach (var kind in new[] { "requests", "tokens" })
        {
            var tightest = Enumerable.Range(0, limits.Count).Where(i => limits[i].Kind == kind).OrderBy(i => states[i].Remaining).FirstOrDefault(-1);
            if (tightest >= 0)
            {
                headers.Add(new($"x-ratelimit-limit-{kind}", limits[tightest].Max.ToString(CultureInfo.InvariantCulture)));
                headers.Add(new($"x-ratelimit-remaining-{kind}", states[tightest].Remaining.ToString(CultureInfo.InvariantCulture)));
                headers.Add(new($"x-ratelimit-reset-{kind}", RateLease.Duration(states[tightest].Reset)));
            }
        }

        return headers;
    }

    private void Give(Limit limit, double amount)
    {
        if (shared is not { Enabled: true })
        {
            _local.GetOrAdd(limit.LocalKey, _ => new Bucket()).Give(amount);
            return;
        }

        shared.Send("rate_limit", db => db.HashIncrementAsync(limit.RedisKey, "level", amount));
    }

    private static OpenAiException Exceeded(Limit limit, Bucket.State state)
    {
        var wait = Math.Max(1, (int)Math.Ceiling(state.RetryAfter.TotalSeconds));
        var whose = limit.Scope == "key" ? $"key '{limit.Owner}'" : $"team '{limit.Owner}'";
        return new OpenAiException(429,
            string.Create(CultureInfo.InvariantCulture,
                $"Rate limit reached for {whose} on {limit.Kind} per minute: limit {limit.Max}, remaining {Math.Max(0, state.Remaining)}, requested {limit.Amount}. Please try again in {wait}s."),
            limit.Kind, "rate_limit_exceeded")
        {
            RetryAfterSeconds = wait,
        };
    }

    /// <summary>A minute's allowance, refilled continuously. Levels are doubles: a refill adds fractions of a request.</summary>
    internal sealed class Bucket
    {
        private readonly Lock _lock = new();
        private double _level = double.NaN;
        private long _at;

        public readonly record struct State(bool Taken, long Remaining, TimeSpan Reset, TimeSpan RetryAfter);

        public State TryTake(long limit, long amount, long now, TimeProvider time)
        {
            lock (_lock)
            {
                var perSecond = limit / 60.0;
                _level = double.IsNaN(_level) ? limit : Math.Min(limit, _level + (time.GetElapsedTime(_at, now).TotalSeconds * perSecond));
                _at = now;
                var taken = _level >= amount;
                if (taken)
                {
                    _level -= amount;
                }

                return StateOf(taken, _level, limit, amount);
            }
        }

        /// <summary>What a take left: the allowance remaining, when it is full again, and (refused) when the request would fit.</summary>
        public static State StateOf(bool taken, double level, long limit, long amount)
        {
            var perSecond = limit / 60.0;
            var remaining = (long)Math.Floor(Math.Max(0, level));
            var reset = TimeSpan.FromSeconds(Math.Max(0, limit - level) / perSecond);
            var retryAfter = taken ? TimeSpan.Zero : TimeSpan.FromSeconds((amount - level) / perSecond);
            return new State(taken, remaining, reset, retryAfter);
        }

        /// <summary>Returns (or, negative, takes more of) an allowance: settling an estimate to what was used.</summary>
        public void Give(double amount)
        {
            lock (_lock)
            {
                _level += amount;
            }
        }
    }
}

/// <summary>What one request took from its limits: the headers that describe them, and the tokens to settle.</summary>
public sealed class RateLease
{
    private readonly Action<long> _settle;
    private int _settled;

    internal RateLease(IReadOnlyList<KeyValuePair<string, string>> headers, Action<long> settle)
    {
        Headers = headers;
        _settle = settle;
    }

    /// <summary>The <c>x-ratelimit-*</c> headers as OpenAI sends them (reset as a duration: <c>6s</c>, <c>1m0s</c>, <c>120ms</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>Settles the tokens reserved to <paramref name="usedTokens"/> (once; null: the estimate stands).</summary>
    public void Settle(long? usedTokens)
    {
        if (Interlocked.Exchange(ref _settled, 1) == 0 && usedTokens is { } used)
        {
            _settle(used);
        }
    }

    internal static string Duration(TimeSpan span) =>
        span < TimeSpan.FromSeconds(1) ? string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)span.TotalMilliseconds)}ms")
        : span < TimeSpan.FromMinutes(1) ? string.Create(CultureInfo.InvariantCulture, $"{Math.Round(span.TotalSeconds, 3)}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds}s");
}
