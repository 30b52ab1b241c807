using System.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Targets.Hosted;

/// <summary>
/// Per-request YARP transform for the hosted route: swaps the client's key for the provider's, sends
/// the rewritten body (installed as the request body by <see cref="HostedRouteTarget"/>), and reads
/// usage from the answer on its way back.
/// </summary>
internal sealed class HostedTransformer(
    Upstream upstream,
    UpstreamDeployment deployment,
    Uri requestUri,
    RouteInvocation invocation,
    UsageCapture capture,
    TimeProvider timeProvider,
    Func<int, TimeSpan?, bool> withhold) : HttpTransformer
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Status of an upstream answer withheld so that a retry or a fallback route can answer instead.</summary>
    public int? WithheldStatus { get; private set; }

    /// <summary>The withheld answer's <c>Retry-After</c> (seconds or an HTTP date), if it had one.</summary>
    public TimeSpan? RetryAfter { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest,
        string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        proxyRequest.RequestUri = requestUri;
        UseProviderKey(proxyRequest, upstream, deployment);
        // Usage is read from the body, so the provider must not compress it.
        proxyRequest.Headers.AcceptEncoding.Clear();
        if (proxyRequest.Content is { } content)
        {
            content.Headers.ContentType = Json;
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        }

        var status = (int)proxyResponse.StatusCode;
        if (status == StatusCodes.Status429TooManyRequests || status >= 500)
        {
            var retryAfter = proxyResponse.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date > timeProvider.GetUtcNow() ? date - timeProvider.GetUtcNow() : TimeSpan.Zero,
                _ => (TimeSpan?)null,
            };
            if (withhold(status, retryAfter))
            {
                WithheldStatus = status;
                RetryAfter = retryAfter;
                return false;
            }
        }

        if (proxyResponse.IsSuccessStatusCode && proxyResponse.Content is { } content)
        {
            var mediaType = content.Headers.ContentType?.MediaType;
            if (string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                var stream = await content.ReadAsStreamAsync(cancellationToken);
                var responses = invocation.Request.Operation == OpenAi.OpenAiOperation.Responses;
                proxyResponse.Content = Replace(content, new StreamContent(
                    new SseUsageStream(stream, invocation.Request.GatewayAddsStreamUsage, capture, timeProvider, readResponseId: responses)));
            }
            else if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            {
                // A non-streamed answer arrives whole anyway; holding it lets the cost header go out with it.
                var bytes = await content.ReadAsByteArrayAsync(cancellationToken);
                if (invocation.Request.Operation == OpenAi.OpenAiOperation.Responses)
                {
                    capture.ResponseId = UsageReader.ReadResponseId(bytes);
                }

                if (UsageReader.TryRead(bytes, out var usage, out _))
                {
                    capture.Usage = usage;
                    invocation.UsageKnownBeforeHeaders?.Invoke(usage!);
                }
                else
                {
                    capture.KeepBody(bytes);
                }

                proxyResponse.Content = Replace(content, new ByteArrayContent(bytes));
                capture.FirstByteTimestamp = timeProvider.GetTimestamp();
            }
        }

        return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    /// <summary>The client's key never reaches the provider: the deployment's key replaces it (<c>api-key</c> on Azure).</summary>
    public static void UseProviderKey(HttpRequestMessage proxyRequest, Upstream upstream, UpstreamDeployment deployment)
    {
        proxyRequest.Headers.Authorization = deployment.ApiKey is null || upstream.IsAzure ? null : new AuthenticationHeaderValue("Bearer", deployment.ApiKey);
        proxyRequest.Headers.Remove("api-key");
        if (upstream.IsAzure && deployment.ApiKey is not null)
        {
            proxyRequest.Headers.TryAddWithoutValidation("api-key", deployment.ApiKey);
        }
    }

    private static HttpContent Replace(HttpContent original, HttpContent replacement)
    {
        foreach (var header in original.Headers)
        {
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                replacement.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return replacement;
    }
}
