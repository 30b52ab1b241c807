using System.Globalization;

namespace Gateway.Routing;

/// <summary>
/// Per-request facts that end up in the gateway's response headers. The headers are written in one
/// place, just before the response starts, so a fallback that clears the response cannot lose them.
/// </summary>
public sealed class GatewayRequestFeature
{
    public const string RequestIdHeader = "x-request-id";
    public const string RouteHeader = "x-gateway-route";
    public const string PolicyVersionHeader = "x-gateway-policy-version";
    public const string CostHeader = "x-gateway-cost-usd";

    public GatewayRequestFeature(string requestId) => RequestId = requestId;

    public string RequestId { get; }

    public static GatewayRequestFeature Of(HttpContext context) =>
        context.Features.Get<GatewayRequestFeature>()
        ?? throw new InvalidOperationException($"{nameof(GatewayRequestMiddleware)} is not in the pipeline.");
    public string? Route { get; set; }
    public string? PolicyVersion { get; set; }
    public decimal? CostUsd { get; set; }

    /// <summary>The request's <c>x-gateway-tags</c>, read once (see <see cref="OpenAi.GatewayTags"/>).</summary>
    public string? Tags { get; set; }

    /// <summary>The caller's rate-limit headers (<c>x-ratelimit-*</c>), which replace any the provider sent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? RateLimitHeaders { get; set; }

    internal void WriteHeaders(IHeaderDictionary headers)
    {
        headers[RequestIdHeader] = RequestId;
        if (Route is not null)
        {
            headers[RouteHeader] = Route;
        }

        if (PolicyVersion is not null)
        {
            headers[PolicyVersionHeader] = PolicyVersion;
        }

        if (CostUsd is { } cost)
        {
            headers[CostHeader] = cost.ToString("0.########", CultureInfo.InvariantCulture);
        }

        foreach (var (name, value) in RateLimitHeaders ?? [])
        {
            headers[name] = value;
        }
    }
}

/// <summary>Assigns the request id and writes the gateway headers when the response starts.</summary>
public sealed class GatewayRequestMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var feature = new GatewayRequestFeature(RequestIds.Next());
        context.TraceIdentifier = feature.RequestId;
        context.Features.Set(feature);
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            http.Features.Get<GatewayRequestFeature>()!.WriteHeaders(http.Response.Headers);
            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}

/// <summary>
/// Request ids that sort by time and are unique across processes without a random draw per
/// request: <c>req_</c> + 48-bit Unix milliseconds + a 48-bit random prefix chosen at start + a
/// 32-bit counter, in hex (a random UUID per request showed up in profiles under load).
/// </summary>
internal static class RequestIds
{
    private static readonly ulong Prefix = BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) & 0xFFFF_FFFF_FFFF;
    private static int s_counter;

    public static string Next()
    {
        var millis = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() & 0xFFFF_FFFF_FFFF;
        var counter = (uint)Interlocked.Increment(ref s_counter);
        return string.Create(36, (millis, counter), static (span, state) =>
        {
            "req_".CopyTo(span);
            state.millis.TryFormat(span[4..16], out _, "x12", CultureInfo.InvariantCulture);
            Prefix.TryFormat(span[16..28], out _, "x12", CultureInfo.InvariantCulture);
            state.counter.TryFormat(span[28..36], out _, "x8", CultureInfo.InvariantCulture);
        });
    }
}
