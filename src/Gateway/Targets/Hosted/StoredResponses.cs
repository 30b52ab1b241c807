using Gateway.OpenAi;
using Gateway.Routing;
using Gateway.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Targets.Hosted;

/// <summary>
/// <c>GET/DELETE /v1/responses/{id}</c>, <c>GET /v1/responses/{id}/input_items</c> and
/// <c>POST /v1/responses/{id}/cancel</c>: forwarded to the upstream that created the response (see
/// <see cref="ResponseAffinity"/>), with the provider's key, and passed back as the provider answered. They carry no
/// tokens, so they are not priced; an id this gateway did not serve to the caller's team is a 404.
/// </summary>
public sealed class StoredResponses(IHttpForwarder forwarder, UpstreamRegistry upstreams, ResponseAffinity affinity, ILogger<StoredResponses> logger)
{
    public async Task ForwardAsync(HttpContext http, string team, string id, string rest)
    {
        var origin = await affinity.FindAsync(id, team) ?? throw OpenAiErrors.ResponseNotFound(id);
        if (origin.Upstream is not { } name || !upstreams.Names.Contains(name))
        {
            throw OpenAiErrors.PreviousResponseUnreachable(origin.Route, origin.Upstream);
        }

        var upstream = upstreams.Get(name);
        var deployment = upstream.Choose([]) ?? throw OpenAiErrors.UpstreamCircuitOpen(name, upstream.Options.CircuitBreaker.BreakDuration);
        var uri = upstream.ResponsesUri(deployment, "/" + Uri.EscapeDataString(id) + rest + http.Request.QueryString.Value);
        var error = await forwarder.SendAsync(http, deployment.BaseUrl, deployment.Invoker, upstream.RequestConfig,
            new Transformer(uri, upstream, deployment), http.RequestAborted);
        if (error != ForwarderError.None)
        {
            Log.UpstreamFailed(logger, name, error, null, null);
            if (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
            {
                throw error is ForwarderError.Request or ForwarderError.RequestCreation
                    ? OpenAiErrors.UpstreamUnreachable(name)
                    : OpenAiErrors.UpstreamFailed(name);
            }

            return;
        }

        if (HttpMethods.IsDelete(http.Request.Method) && http.Response.StatusCode is >= 200 and < 300 or StatusCodes.Status404NotFound)
        {
            affinity.Forget(id);
        }
    }

    private sealed class Transformer(Uri uri, Upstream upstream, UpstreamDeployment deployment) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.RequestUri = uri;
            HostedTransformer.UseProviderKey(proxyRequest, upstream, deployment);
        }
    }
}
