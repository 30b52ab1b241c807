using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Hosting;
using Gateway.OpenAi;
using StackExchange.Redis;

namespace Gateway.Auth;

/// <summary>
/// Requests-per-minute and tokens-per-minute limits of a client key, enforced before a route runs. Each limit is a
/// token bucket holding a minute's allowance and refilled continuously, as OpenAI's limits behave (a burst may use the
/// whole minute at once, then requests pass as the allowance returns). A tokens limit reserves the request's estimate
/// (prompt plus <c>max_tokens</c>, or the typical answer) and settles to the actual usage when the request is recorded.
/// With <c>Redis:ConnectionString</c> the buckets live in Redis (one Lua script takes atomically, on Redis's clock), so the
/// limits hold whatever the number of replicas; without it they are this process's, and N replicas allow up to N times
/// a limit.
/// </summary>
public sealed class RateLimiter(TimeProvider timeProvider, SharedState? shared = null)
{
    /// <summary>Both of a key's buckets in one round trip: refill on Redis's clock, then take one request and the tokens, or nothing.</summary>
    private static readonly LuaScript Take = LuaScript.Prepare("""
        local now = redis.call('TIME')
        now = tonumber(now[1]) + tonumber(now[2]) / 1000000
        local function refill(bucket, limit)
          local state = redis.call('HMGET', bucket, 'level', 'at')
          local level = tonumber(state[1])
          local at = tonumber(state[2]) or now
          if level == nil then level = limit end
          return math.min(limit, level + (now - at) * limit / 60)
        end
        local rpm = tonumber(@rpm)
        local tpm = tonumber(@tpm)
        local amount = tonumber(@amount)
        local requests = 0
        local tokens = 0
        if rpm >= 0 then requests = refill(@requestBucket, rpm) end
        if tpm >= 0 then tokens = refill(@tokenBucket, tpm) end
        local refused = 0
        if rpm >= 0 and requests < 1 then
          refused = 1
        elseif tpm >= 0 and tokens < amount then
          refused = 2
        end
        if refused == 0 then
          requests = requests - 1
          tokens = tokens - amount
        end
        if rpm >= 0 then
          redis.call('HSET', @requestBucket, 'level', tostring(requests), 'at', tostring(now))
          redis.call('EXPIRE', @requestBucket, 120)
        end
        if tpm >= 0 then
          redis.call('HSET', @tokenBucket, 'level', tostring(tokens), 'at', tostring(now))
          redis.call('EXPIRE', @tokenBucket, 120)
        end
        return {refused, tostring(requests), tostring(tokens)}
        """);

    private readonly ConcurrentDictionary<string, Bucket> _local = new(StringComparer.Ordinal);

    /// <summary>
    /// Takes one request and <paramref name="estimatedTokens"/> from the key's allowances; null when the key has no limits.
    /// With <c>Redis:ConnectionString</c> the allowances are shared by every replica (one script, one round trip).
    /// </summary>
    /// <exception cref="OpenAiException">429 <c>rate_limit_exceeded</c> with Retry-After when an allowance is used up; nothing is taken.</exception>
    public async ValueTask<RateLease?> AcquireAsync(ClientIdentity identity, int estimatedTokens)
    {
        if (identity.RpmLimit is null && identity.TpmLimit is null)
        {
            return null;
        }

        // A request larger than the whole minute's allowance reserves the allowance: refusing it forever would be worse.
        var reserve = identity.TpmLimit is { } limit ? Math.Min(estimatedTokens, limit) : 0;
        var (requests, tokens) = shared is { Enabled: true }
            ? await shared.RunAsync("rate_limit", db => TakeSharedAsync(db, identity, reserve), () => TakeLocal(identity, reserve))
            : TakeLocal(identity, reserve);
        if (requests is { Taken: false } refusedRequests)
        {
            throw Exceeded("requests", identity.KeyId, identity.RpmLimit!.Value, refusedRequests, 1);
        }

        if (tokens is { Taken: false } refusedTokens)
        {
            throw Exceeded("tokens", identity.KeyId, identity.TpmLimit!.Value, refusedTokens, reserve);
        }

        return new RateLease(identity, requests, tokens, tokens is null ? null : amount => Give("tokens", identity.KeyId, amount), reserve);
    }

    /// <summary>Synchronous form for callers without shared state (tests, benchmarks).</summary>
    public RateLease? Acquire(ClientIdentity identity, int estimatedTokens) => AcquireAsync(identity, estimatedTokens).AsTask().GetAwaiter().GetResult();

    /// <summary>This process's buckets: the request first; a tokens refusal gives the request back.</summary>
    private (Bucket.State? Requests, Bucket.State? Tokens) TakeLocal(ClientIdentity identity, long reserve)
    {
        var now = timeProvider.GetTimestamp();
        Bucket Of(string kind) => _local.GetOrAdd($"{kind}:{identity.KeyId}", _ => new Bucket());
        var requests = identity.RpmLimit is { } rpm ? Of("requests").TryTake(rpm, 1, now, timeProvider) : (Bucket.State?)null;
        if (requests is { Taken: false })
        {
            return (requests, null);
        }

        var tokens = identity.TpmLimit is { } tpm ? Of("tokens").TryTake(tpm, reserve, now, timeProvider) : (Bucket.State?)null;
        if (tokens is { Taken: false } && requests is not null)
        {
            Of("requests").Give(1);
        }

        return (requests, tokens);
    }

    private static async Task<(Bucket.State? Requests, Bucket.State? Tokens)> TakeSharedAsync(IDatabase db, ClientIdentity identity, long reserve)
    {
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(Take, new
        {
            requestBucket = BucketKey(identity.KeyId, "requests"),
            tokenBucket = BucketKey(identity.KeyId, "tokens"),
            rpm = identity.RpmLimit ?? -1L,
            tpm = identity.TpmLimit ?? -1L,
            amount = reserve,
        }))!;
        var refused = (long)result[0];
        var requests = identity.RpmLimit is { } rpm
            ? Bucket.StateOf(refused != 1, Level(result[1]), rpm, 1)
            : (Bucket.State?)null;
        var tokens = identity.TpmLimit is { } tpm && refused != 1
            ? Bucket.StateOf(refused == 0, Level(result[2]), tpm, reserve)
            : (Bucket.State?)null;
        return (requests, tokens);
    }

    private static double Level(RedisResult value) => double.Parse((string)value!, CultureInfo.InvariantCulture);

    private static RedisKey BucketKey(string key, string kind) => $"gw:rl:{{{key}}}:{kind}";

    private void Give(string kind, string key, double amount)
    {
        if (shared is not { Enabled: true })
        {
            _local.GetOrAdd($"{kind}:{key}", _ => new Bucket()).Give(amount);
            return;
        }

        shared.Send("rate_limit", db => db.HashIncrementAsync(BucketKey(key, kind), "level", amount));
    }

    private static OpenAiException Exceeded(string what, string key, long limit, Bucket.State state, long requested)
    {
        var wait = Math.Max(1, (int)Math.Ceiling(state.RetryAfter.TotalSeconds));
        return new OpenAiException(429,
            string.Create(CultureInfo.InvariantCulture,
                $"Rate limit reached for key '{key}' on {what} per minute: limit {limit}, remaining {Math.Max(0, state.Remaining)}, requested {requested}. Please try again in {wait}s."),
            what, "rate_limit_exceeded")
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

/// <summary>What one request took from its key's limits: the headers that describe them, and the tokens to settle.</summary>
public sealed class RateLease
{
    private readonly Action<double>? _giveTokens;
    private readonly long _reserved;
    private int _settled;

    internal RateLease(ClientIdentity identity, RateLimiter.Bucket.State? requests, RateLimiter.Bucket.State? tokens, Action<double>? giveTokens, long reserved)
    {
        _giveTokens = giveTokens;
        _reserved = reserved;
        var headers = new List<KeyValuePair<string, string>>(6);
        if (requests is { } r)
        {
            headers.Add(new("x-ratelimit-limit-requests", identity.RpmLimit!.Value.ToString(CultureInfo.InvariantCulture)));
            headers.Add(new("x-ratelimit-remaining-requests", r.Remaining.ToString(CultureInfo.InvariantCulture)));
            headers.Add(new("x-ratelimit-reset-requests", Duration(r.Reset)));
        }

        if (tokens is { } t)
        {
            headers.Add(new("x-ratelimit-limit-tokens", identity.TpmLimit!.Value.ToString(CultureInfo.InvariantCulture)));
            headers.Add(new("x-ratelimit-remaining-tokens", t.Remaining.ToString(CultureInfo.InvariantCulture)));
            headers.Add(new("x-ratelimit-reset-tokens", Duration(t.Reset)));
        }

        Headers = headers;
    }

    /// <summary>The <c>x-ratelimit-*</c> headers as OpenAI sends them (reset as a duration: <c>6s</c>, <c>1m0s</c>, <c>120ms</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>Settles the tokens reserved to <paramref name="usedTokens"/> (once; null: the estimate stands).</summary>
    public void Settle(long? usedTokens)
    {
        if (Interlocked.Exchange(ref _settled, 1) == 0 && usedTokens is { } used)
        {
            _giveTokens?.Invoke(_reserved - used);
        }
    }

    internal static string Duration(TimeSpan span) =>
        span < TimeSpan.FromSeconds(1) ? string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)span.TotalMilliseconds)}ms")
        : span < TimeSpan.FromMinutes(1) ? string.Create(CultureInfo.InvariantCulture, $"{Math.Round(span.TotalSeconds, 3)}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds}s");
}
