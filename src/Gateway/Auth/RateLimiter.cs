using System.Collections.Concurrent;
using System.Globalization;
using Gateway.OpenAi;

namespace Gateway.Auth;

/// <summary>
/// Requests-per-minute and tokens-per-minute limits of a client key, enforced before a route runs. Each limit is a
/// token bucket holding a minute's allowance and refilled continuously, as OpenAI's limits behave (a burst may use the
/// whole minute at once, then requests pass as the allowance returns). A tokens limit reserves the request's estimate
/// (prompt plus <c>max_tokens</c>, or the typical answer) and settles to the actual usage when the request is recorded.
/// The counters are this process's: N replicas without a shared store allow up to N times a limit (see
/// docs/operations.md).
/// </summary>
public sealed class RateLimiter(TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, Bucket> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Bucket> _tokens = new(StringComparer.Ordinal);

    /// <summary>
    /// Takes one request and <paramref name="estimatedTokens"/> from the key's allowances; null when the key has no limits.
    /// </summary>
    /// <exception cref="OpenAiException">429 <c>rate_limit_exceeded</c> with Retry-After when an allowance is used up; nothing is taken.</exception>
    public RateLease? Acquire(ClientIdentity identity, int estimatedTokens)
    {
        if (identity.RpmLimit is null && identity.TpmLimit is null)
        {
            return null;
        }

        var now = timeProvider.GetTimestamp();
        var requests = identity.RpmLimit is { } rpm ? _requests.GetOrAdd(identity.KeyId, _ => new Bucket()) : null;
        var tokens = identity.TpmLimit is { } tpm ? _tokens.GetOrAdd(identity.KeyId, _ => new Bucket()) : null;
        // A request larger than the whole minute's allowance reserves the allowance: refusing it forever would be worse.
        var reserve = identity.TpmLimit is { } limit ? Math.Min(estimatedTokens, limit) : 0;

        var requestState = requests?.TryTake(identity.RpmLimit!.Value, 1, now, timeProvider);
        if (requestState is { Taken: false } refusedRequests)
        {
            throw Exceeded("requests", identity.KeyId, identity.RpmLimit!.Value, refusedRequests, 1);
        }

        var tokenState = tokens?.TryTake(identity.TpmLimit!.Value, reserve, now, timeProvider);
        if (tokenState is { Taken: false } refusedTokens)
        {
            requests?.Give(1);
            throw Exceeded("tokens", identity.KeyId, identity.TpmLimit!.Value, refusedTokens, reserve);
        }

        return new RateLease(identity, requestState, tokenState, tokens, reserve);
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

                var remaining = (long)Math.Floor(Math.Max(0, _level));
                var reset = TimeSpan.FromSeconds((limit - _level) / perSecond);
                var retryAfter = taken ? TimeSpan.Zero : TimeSpan.FromSeconds((amount - _level) / perSecond);
                return new State(taken, remaining, reset, retryAfter);
            }
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
    private readonly RateLimiter.Bucket? _tokens;
    private readonly long _reserved;
    private int _settled;

    internal RateLease(ClientIdentity identity, RateLimiter.Bucket.State? requests, RateLimiter.Bucket.State? tokens, RateLimiter.Bucket? tokenBucket, long reserved)
    {
        _tokens = tokenBucket;
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
            _tokens?.Give(_reserved - used);
        }
    }

    internal static string Duration(TimeSpan span) =>
        span < TimeSpan.FromSeconds(1) ? string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)span.TotalMilliseconds)}ms")
        : span < TimeSpan.FromMinutes(1) ? string.Create(CultureInfo.InvariantCulture, $"{Math.Round(span.TotalSeconds, 3)}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds}s");
}
