using System.Collections.Frozen;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Spend;
using Gateway.Targets;
using Gateway.Telemetry;

namespace Gateway.Routing;

/// <summary>Runs a decision: the chosen route, then its fallback chain while nothing has reached the client.</summary>
public sealed class RouteExecutor(IEnumerable<IRouteTarget> targets, GatewayMetrics metrics, ILogger<RouteExecutor> logger)
{
    private readonly FrozenDictionary<string, IRouteTarget> _byKind = targets.ToFrozenDictionary(t => t.Kind, StringComparer.Ordinal);

    public async Task<ExecutionResult> ExecuteAsync(HttpContext http, OpenAiRequest request, RouteDecision decision,
        Action<PolicyRoute, string, Usage> usageKnownBeforeHeaders, CancellationToken cancellationToken)
    {
        var feature = GatewayRequestFeature.Of(http);
        var attempts = decision.Fallbacks.Count + 1;
        string? fallbackFrom = null;

        for (var attempt = 0; ; attempt++)
        {
            var route = attempt == 0 ? decision.Route : decision.Fallbacks[attempt - 1];
            var model = attempt == 0 ? decision.TargetModel : route.Model;
            var last = attempt == attempts - 1;
            feature.Route = route.Name;

            RouteOutcome outcome;
            if (_byKind.TryGetValue(route.Kind, out var target))
            {
                outcome = await target.ExecuteAsync(new RouteInvocation
                {
                    HttpContext = http,
                    Request = request,
                    Route = route,
                    TargetModel = model,
                    CanFallBack = !last,
                    UsageKnownBeforeHeaders = usage => usageKnownBeforeHeaders(route, model, usage),
                }, cancellationToken);
            }
            else
            {
                var error = OpenAiErrors.RouteUnavailable(route.Name, route.Kind);
                outcome = new RouteOutcome { Status = error.Status, Error = error, Retryable = true };
            }

            if (outcome.Retryable && !last && !http.Response.HasStarted && !cancellationToken.IsCancellationRequested)
            {
                var next = decision.Fallbacks[attempt];
                metrics.Fallback(route.Name, next.Name);
                Log.FallingBack(logger, route.Name, outcome.Status, next.Name);
                fallbackFrom ??= route.Name;
                http.Response.Clear();
                continue;
            }

            if (outcome.Error is { } failure && !http.Response.HasStarted && !cancellationToken.IsCancellationRequested)
            {
                http.Response.Clear();
                await ErrorResponses.WriteAsync(http, failure);
            }

            return new ExecutionResult(route, model, outcome, fallbackFrom);
        }
    }
}

/// <summary>The route that finally answered (or failed last) and what it produced.</summary>
public sealed record ExecutionResult(PolicyRoute Route, string Model, RouteOutcome Outcome, string? FallbackFrom);
