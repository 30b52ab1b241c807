using System.Buffers;
using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance.Buffers;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Telemetry;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Targets.Hosted;

/// <summary>Strategy 1: forward to an OpenAI-compatible provider through YARP.</summary>
public sealed class HostedRouteTarget(
    IHttpForwarder forwarder,
    UpstreamRegistry upstreams,
    GatewayMetrics metrics,
    TimeProvider timeProvider,
    ILogger<HostedRouteTarget> logger) : IRouteTarget
{
    public string Kind => RouteKinds.Hosted;

    /// <summary>Statuses worth repeating on the same upstream: the provider did no work and may well do it next time.</summary>
    private static bool Transient(int status) => status is StatusCodes.Status429TooManyRequests or StatusCodes.Status502BadGateway
        or StatusCodes.Status503ServiceUnavailable;

    public async Task<RouteOutcome> ExecuteAsync(RouteInvocation invocation, CancellationToken cancellationToken)
    {
        var upstream = upstreams.Get(invocation.Route.Upstream!);
        var request = invocation.Request;
        // A body under 64 KiB is written to a pooled buffer, returned once the attempts are over: YARP has read it by
        // then (SendAsync awaits the request body's copy), and the request's body stream no longer points at it. A
        // larger one gets arrays of its own, so its memory goes back to the collector (LargeBodyReclaimer), not the pool.
        var pool = request.BodyLength < Hosting.LargeBodyReclaimer.Floor ? ArrayPool<byte>.Shared : UnpooledArrays.Instance;
        using var body = new ArrayPoolBufferWriter<byte>(pool, request.BodyLength + 128);
        request.WriteUpstreamBody(body, invocation.TargetModel);
        MemoryMarshal.TryGetArray(body.WrittenMemory, out var segment);
        try
        {
            return await ForwardAsync(invocation, upstream, segment, cancellationToken);
        }
        finally
        {
            invocation.HttpContext.Request.Body = Stream.Null;
        }
    }

    /// <summary>The body forwarded through the upstream's retries and its deployments' circuit breakers.</summary>
    private async Task<RouteOutcome> ForwardAsync(RouteInvocation invocation, Upstream upstream, ArraySegment<byte> segment, CancellationToken cancellationToken)
    {
        var first = timeProvider.GetTimestamp();
        var attempt = 0;
        List<UpstreamDeployment>? failed = null; // allocated on the first failure only
        var result = await upstream.Resilience.Pipeline.ExecuteAsync(async token =>
        {
            var number = attempt++;
            if (upstream.Choose(failed ?? []) is not { } deployment)
            {
                return CircuitOpen(upstream, null);
            }

            bool MayRetry(TimeSpan? retryAfter) => !invocation.HttpContext.Response.HasStarted
                && upstream.Resilience.MayRetry(number, timeProvider.GetElapsedTime(first), retryAfter, upstream.HasFresh([.. failed ?? [], deployment]));
            Attempt tried;
            try
            {
                tried = await deployment.Circuit.Pipeline.ExecuteAsync(
                    ct => new ValueTask<Attempt>(SendAsync(invocation, upstream, deployment, segment, number, MayRetry, ct)), token);
            }
            catch (BrokenCircuitException open)
            {
                // Opened by other requests since it was chosen (or half-open with its probe in flight).
                tried = CircuitOpen(upstream, open.RetryAfter) with { RetryReason = MayRetry(null) ? "circuit" : null };
            }

            if (tried.RetryReason is null && !tried.ProviderFault)
            {
                return tried;
            }

            (failed ??= []).Add(deployment);
            return tried with { SwitchDeployment = upstream.HasFresh(failed) };
        }, cancellationToken);
        return result.Outcome;
    }

    private Attempt CircuitOpen(Upstream upstream, TimeSpan? retryAfter)
    {
        metrics.UpstreamError(upstream.Name, "CircuitOpen");
        return new Attempt(new RouteOutcome
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Error = OpenAiErrors.UpstreamCircuitOpen(upstream.Name, retryAfter ?? upstream.Options.CircuitBreaker.BreakDuration),
            Retryable = true,
        }, null, null, ProviderFault: false);
    }

    /// <summary>One attempt: the request forwarded once, and what came of it.</summary>
    private async Task<Attempt> SendAsync(RouteInvocation invocation, Upstream upstream, UpstreamDeployment deployment, ArraySegment<byte> body, int number,
        Func<TimeSpan?, bool> mayRetry, CancellationToken cancellationToken)
    {
        var request = invocation.Request;
        var http = invocation.HttpContext;
        if (number > 0)
        {
            http.Response.Clear(); // the withheld answer of the previous attempt
        }

        var capture = new UsageCapture();
        var started = timeProvider.GetTimestamp();
        var uri = upstream.RequestUri(deployment, request.Operation, invocation.TargetModel);
        // A provider's 429/5xx is held back when a retry or a fallback route can answer instead; otherwise it reaches the client.
        var transformer = new HostedTransformer(upstream, deployment, uri, invocation, capture, timeProvider,
            (status, retryAfter) => invocation.CanFallBack || (Transient(status) && mayRetry(retryAfter)));

        // YARP streams the request body from HttpContext.Request and forbids replacing its content,
        // so the rewritten body becomes the request body, with a fixed length (a fresh stream per attempt).
        http.Request.Body = new MemoryStream(body.Array!, body.Offset, body.Count, writable: false);
        http.Request.Headers.TransferEncoding = default;
        http.Request.ContentLength = body.Count;

        var error = await forwarder.SendAsync(http, deployment.BaseUrl, deployment.Invoker, upstream.RequestConfig, transformer, cancellationToken);

        var ttfb = capture.FirstByteTimestamp is { } firstByte ? timeProvider.GetElapsedTime(started, firstByte) : (TimeSpan?)null;
        if (transformer.WithheldStatus is { } withheld)
        {
            metrics.UpstreamError(upstream.Name, withheld.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var outcome = new RouteOutcome { Status = withheld, Retryable = true, Error = OpenAiErrors.UpstreamFailed(upstream.Name) };
            var retry = Transient(withheld) && mayRetry(transformer.RetryAfter) ? withheld.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            return new Attempt(outcome, retry, transformer.RetryAfter, ProviderFault: withheld >= 500);
        }

        if (error == ForwarderError.None)
        {
            return new Attempt(new RouteOutcome
            {
                Status = http.Response.StatusCode,
                Usage = capture.Usage,
                TimeToFirstByte = ttfb,
                CompletionWithoutUsage = http.Response.StatusCode is >= 200 and < 300 ? capture.CompletionWithoutUsage() : null,
                ResponseId = capture.ResponseId,
            }, null, null, ProviderFault: http.Response.StatusCode >= 500);
        }

        var exception = http.Features.Get<IForwarderErrorFeature>()?.Exception;
        // Text the client already received is paid for: when no usage came, the gateway counts it.
        var delivered = http.Response.HasStarted && capture.Usage is null ? capture.CompletionWithoutUsage() : null;
        // YARP names the side that failed ("Client" or "Destination", the provider); a cancellation is either the
        // client leaving or YARP's activity timeout (after which YARP aborts the client too), told apart by how long
        // the provider had been silent.
        var silence = timeProvider.GetElapsedTime(capture.LastUpstreamBytes ?? started);
        var cancelled = error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                        || exception is OperationCanceledException;
        var timedOut = error == ForwarderError.RequestTimedOut || exception is TimeoutException
                       || (cancelled && silence >= upstream.RequestConfig.ActivityTimeout!.Value * 0.9);
        if (!timedOut && (error is ForwarderError.ResponseBodyClient or ForwarderError.RequestBodyClient
                          || (cancelled && http.RequestAborted.IsCancellationRequested)))
        {
            Log.ClientDisconnected(logger, upstream.Name, error);
            return new Attempt(RouteOutcome.ClientGone with
            {
                Usage = capture.Usage, CompletionWithoutUsage = delivered, TimeToFirstByte = ttfb, ResponseId = capture.ResponseId,
            }, null, null, false);
        }

        metrics.UpstreamError(upstream.Name, error.ToString());
        Log.UpstreamFailed(logger, upstream.Name, error, exception?.GetType().Name, exception?.Message);
        timedOut |= cancelled; // cancelled with the client still there: the activity timeout
        var unreachable = !timedOut && error is ForwarderError.Request or ForwarderError.RequestCreation;
        var failure = timedOut ? OpenAiErrors.UpstreamTimeout(upstream.Name)
            : unreachable ? OpenAiErrors.UpstreamUnreachable(upstream.Name)
            : OpenAiErrors.UpstreamFailed(upstream.Name);
        return new Attempt(new RouteOutcome
        {
            Status = failure.Status,
            Error = failure,
            Retryable = !http.Response.HasStarted,
            Usage = capture.Usage,
            CompletionWithoutUsage = delivered,
            TimeToFirstByte = ttfb,
        }, unreachable && mayRetry(null) ? "connect" : null, null, ProviderFault: true);
    }
}

/// <summary>An <see cref="ArrayPool{T}"/> that keeps nothing: every rent is a new array, every return is dropped.</summary>
internal sealed class UnpooledArrays : ArrayPool<byte>
{
    public static UnpooledArrays Instance { get; } = new();

    public override byte[] Rent(int minimumLength) => new byte[minimumLength];

    public override void Return(byte[] array, bool clearArray = false)
    {
    }
}
