using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Spend;

namespace Gateway.Targets;

/// <summary>One attempt at serving a request on one route.</summary>
public sealed class RouteInvocation
{
    public required HttpContext HttpContext { get; init; }
    public required OpenAiRequest Request { get; init; }
    public required PolicyRoute Route { get; init; }

    /// <summary>The model name the target is asked for (rewritten into the request).</summary>
    public required string TargetModel { get; init; }

    /// <summary>
    /// Whether another route can take over. When true, a target that fails before sending anything
    /// (including an upstream 429 or 5xx) returns a retryable outcome instead of answering.
    /// </summary>
    public bool CanFallBack { get; init; }

    /// <summary>
    /// Called by a target that knows the usage before the response headers go out (non-streamed
    /// answers), so the gateway can add its cost header.
    /// </summary>
    public Action<Usage>? UsageKnownBeforeHeaders { get; init; }
}
