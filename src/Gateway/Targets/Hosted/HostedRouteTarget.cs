using System.Buffers;
using System.Runtime.InteropServices;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Telemetry;
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

    public IReadOnlySet<string> KnownTargets => upstreams.Names;

    public async Task<RouteOutcome> ExecuteAsync(RouteInvocation invocation, CancellationToken cancellationToken)
    {
        var upstream = upstreams.Get(invocation.Route.Upstream!);
        var request = invocation.Request;
        var body = new ArrayBufferWriter<byte>(request.BodyLength + 128);
        request.WriteUpstreamBody(body, invocation.TargetModel);

        var capture = new UsageCapture();
        var started = timeProvider.GetTimestamp();
        var uri = new Uri(upstream.BaseUrl + request.Operation.UpstreamPath());
        var transformer = new HostedTransformer(upstream, uri, invocation, capture, timeProvider);
        var http = invocation.HttpContext;

        // YARP streams the request body from HttpContext.Request and forbids replacing its content,
        // so the rewritten body becomes the request body, with a fixed length.
        MemoryMarshal.TryGetArray(body.WrittenMemory, out var segment);
        http.Request.Body = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        http.Request.Headers.TransferEncoding = default;
        http.Request.ContentLength = segment.Count;

        var error = await forwarder.SendAsync(http, upstream.BaseUrl, upstream.Invoker, upstream.RequestConfig, transformer, cancellationToken);

        var ttfb = capture.FirstByteTimestamp is { } first ? timeProvider.GetElapsedTime(started, first) : (TimeSpan?)null;
        if (transformer.WithheldStatus is { } withheld)
        {
            metrics.UpstreamError(upstream.Name, withheld.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new RouteOutcome
            {
                Status = withheld,
                Retryable = true,
                Error = OpenAiErrors.UpstreamFailed(upstream.Name),
            };
        }

        if (error == ForwarderError.None)
        {
            return new RouteOutcome
            {
                Status = http.Response.StatusCode,
                Usage = capture.Usage,
                TimeToFirstByte = ttfb,
                CompletionWithoutUsage = http.Response.StatusCode is >= 200 and < 300 ? capture.CompletionWithoutUsage() : null,
            };
        }

        var exception = http.Features.Get<IForwarderErrorFeature>()?.Exception;
        // Text the client already received is paid for: when no usage came, the gateway counts it.
        var delivered = http.Response.HasStarted && capture.Usage is null ? capture.CompletionWithoutUsage() : null;
        if (http.RequestAborted.IsCancellationRequested || error is ForwarderError.ResponseBodyClient or ForwarderError.RequestBodyClient)
        {
            Log.ClientDisconnected(logger, upstream.Name, error);
            return RouteOutcome.ClientGone with { Usage = capture.Usage, CompletionWithoutUsage = delivered, TimeToFirstByte = ttfb };
        }

        metrics.UpstreamError(upstream.Name, error.ToString());
        Log.UpstreamFailed(logger, upstream.Name, error, exception?.GetType().Name, exception?.Message);
        // With the client still there, the only other cancellation is YARP's activity timeout: the provider went
        // silent, before the headers or in the middle of the body.
        var timedOut = error is ForwarderError.RequestTimedOut or ForwarderError.RequestCanceled or ForwarderError.ResponseBodyCanceled
                           or ForwarderError.RequestBodyCanceled
                       || exception is TimeoutException or OperationCanceledException;
        var failure = timedOut ? OpenAiErrors.UpstreamTimeout(upstream.Name)
            : error is ForwarderError.Request or ForwarderError.RequestCreation ? OpenAiErrors.UpstreamUnreachable(upstream.Name)
            : OpenAiErrors.UpstreamFailed(upstream.Name);
        return new RouteOutcome
        {
            Status = failure.Status,
            Error = failure,
            Retryable = !http.Response.HasStarted,
            Usage = capture.Usage,
            CompletionWithoutUsage = delivered,
            TimeToFirstByte = ttfb,
        };
    }
}
