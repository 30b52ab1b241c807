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
internal sealed record Attempt(RouteOutcome Outcome, string? RetryReason, TimeSpan? RetryAfter, bool ProviderFault)
{
    /// <summary>The retry goes to another deployment: no reason to wait.</summary>
    public bool SwitchDeployment { get; init; }
}

/// <summary>
/// Retries of one upstream, as a Polly pipeline around each request's attempts: exponential back-off with jitter, or
/// the provider's <c>Retry-After</c>, or none when the retry moves to another deployment; only while nothing has
/// reached the client and within <see cref="UpstreamOptions.RetryWindow"/>. The route's fallbacks come after them.
/// </summary>
internal sealed class UpstreamResilience
{
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
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Result is { SwitchDeployment: true } ? TimeSpan.Zero : args.Outcome.Result?.RetryAfter),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Result?.RetryReason ?? "error";
                    metrics.UpstreamRetry(upstream, reason);
                    Log.UpstreamRetry(logger, upstream, reason, args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            });
        }

        Pipeline = builder.Build();
    }

    public ResiliencePipeline<Attempt> Pipeline { get; }

    /// <summary>
    /// Whether attempt number <paramref name="attempt"/> (0-based), begun <paramref name="elapsed"/> after the request's
    /// first, may be followed by a retry; a long <c>Retry-After</c> is waited for only on another deployment.
    /// </summary>
    public bool MayRetry(int attempt, TimeSpan elapsed, TimeSpan? retryAfter, bool otherDeployment) =>
        attempt < _options.Retries && elapsed < _options.RetryWindow
        && (otherDeployment || retryAfter is null || retryAfter <= _options.MaxRetryAfter);
}

/// <summary>
/// The circuit breaker of one deployment, shared by every request to it: while it is open, attempts fail at once with
/// <see cref="BrokenCircuitException"/> and requests move to another deployment or the route's fallback.
/// </summary>
internal sealed class DeploymentCircuit
{
    private readonly CircuitBreakerStateProvider? _state;
    private readonly TimeProvider _timeProvider;
    private long _openUntil;

    public DeploymentCircuit(string upstream, string deployment, CircuitBreakerOptions options, GatewayMetrics metrics, TimeProvider timeProvider, ILogger logger)
    {
        _timeProvider = timeProvider;
        var builder = new ResiliencePipelineBuilder<Attempt> { TimeProvider = timeProvider };
        if (options.Enabled)
        {
            _state = new CircuitBreakerStateProvider();
            metrics.UpstreamCircuit(upstream, deployment, 0);
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<Attempt>
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                StateProvider = _state,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result?.ProviderFault == true),
                OnOpened = args =>
                {
                    Volatile.Write(ref _openUntil, (timeProvider.GetUtcNow() + args.BreakDuration).UtcTicks);
                    return Changed(2, "open");
                },
                OnHalfOpened = _ => Changed(1, "half-open"),
                OnClosed = _ => Changed(0, "closed"),
            });
        }

        Pipeline = builder.Build();

        ValueTask Changed(int state, string name)
        {
            metrics.UpstreamCircuit(upstream, deployment, state);
            Log.UpstreamCircuit(logger, upstream, deployment, name);
            return default;
        }
    }

    public ResiliencePipeline<Attempt> Pipeline { get; }

    /// <summary>
    /// Whether requests should skip this deployment now: isolated, or open with its break not yet over (Polly reports
    /// "open" until the next attempt after the break, which is the probe that may close it).
    /// </summary>
    public bool IsOpen => _state?.CircuitState switch
    {
        CircuitState.Isolated => true,
        CircuitState.Open => _timeProvider.GetUtcNow().UtcTicks < Volatile.Read(ref _openUntil),
        _ => false,
    };

    /// <summary><c>closed</c>, <c>half-open</c>, <c>open</c>, or <c>disabled</c>.</summary>
    public string State => _state?.CircuitState switch
    {
        null => "disabled",
        CircuitState.Closed => "closed",
        CircuitState.HalfOpen => "half-open",
        _ => "open",
    };
}
