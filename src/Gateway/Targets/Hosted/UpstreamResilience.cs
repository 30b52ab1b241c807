using Gateway.Telemetry;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Gateway.Targets.Hosted;

/// <summary>One attempt on an upstream, with what retries and the circuit breaker need to know about it.</summary>
/// <param name="Outcome">What the attempt produced (for the executor, if no retry follows).</param>
/// <param name="RetryReason">Why the same upstream may be tried again (nothing reached the client, the provider did no work), or null.</param>
/// <param name="RetryAfter">The provider's <c>Retry-After</c>, when it sent one.</param>
/// <param name="ProviderFault">Counts against the circuit: a connection error, a timeout or a 5xx.</param>
internal sealed record Attempt(RouteOutcome Outcome, string? RetryReason, TimeSpan? RetryAfter, bool ProviderFault);

/// <summary>
/// Retries and the circuit breaker of one upstream, as a Polly pipeline around each request's attempts.
/// Retries (exponential back-off with jitter, or the provider's <c>Retry-After</c>) happen only while nothing has
/// reached the client and within <see cref="UpstreamOptions.RetryWindow"/>; the route's fallbacks come after them.
/// The circuit breaker is shared by every request to the upstream: while it is open, attempts fail at once with
/// <see cref="BrokenCircuitException"/> and the executor moves to the route's fallback.
/// </summary>
internal sealed class UpstreamResilience
{
    private readonly CircuitBreakerStateProvider? _circuit;
    private readonly UpstreamOptions _options;

    public UpstreamResilience(string upstream, UpstreamOptions options, GatewayMetrics metrics, TimeProvider timeProvider, ILogger logger)
    {
        _options = options;
        var builder = new ResiliencePipelineBuilder<Attempt> { TimeProvider = timeProvider };
        if (options.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<Attempt>
            {
                MaxRetryAttempts = options.Retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryAfter,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result?.RetryReason is not null),
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Result?.RetryReason ?? "error";
                    metrics.UpstreamRetry(upstream, reason);
                    Log.UpstreamRetry(logger, upstream, reason, args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            });
        }

        if (options.CircuitBreaker is { Enabled: true } breaker)
        {
            _circuit = new CircuitBreakerStateProvider();
            metrics.UpstreamCircuit(upstream, 0);
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<Attempt>
            {
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = breaker.SamplingDuration,
                BreakDuration = breaker.BreakDuration,
                StateProvider = _circuit,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result?.ProviderFault == true),
                OnOpened = _ => Changed(2, "open"),
                OnHalfOpened = _ => Changed(1, "half-open"),
                OnClosed = _ => Changed(0, "closed"),
            });
        }

        Pipeline = builder.Build();

        ValueTask Changed(int state, string name)
        {
            metrics.UpstreamCircuit(upstream, state);
            Log.UpstreamCircuit(logger, upstream, name);
            return default;
        }
    }

    public ResiliencePipeline<Attempt> Pipeline { get; }

    /// <summary><c>closed</c>, <c>half-open</c>, <c>open</c>, or <c>disabled</c>.</summary>
    public string CircuitState => _circuit?.CircuitState switch
    {
        null => "disabled",
        Polly.CircuitBreaker.CircuitState.Closed => "closed",
        Polly.CircuitBreaker.CircuitState.HalfOpen => "half-open",
        _ => "open",
    };

    /// <summary>
    /// Whether an attempt that began <paramref name="elapsed"/> after the request's first one and is number
    /// <paramref name="attempt"/> (0-based) may be followed by a retry; a 429 also needs an acceptable <c>Retry-After</c>.
    /// </summary>
    public bool MayRetry(int attempt, TimeSpan elapsed, TimeSpan? retryAfter = null) =>
        attempt < _options.Retries && elapsed < _options.RetryWindow && (retryAfter is null || retryAfter <= _options.MaxRetryAfter);
}
