using Gateway.Auth;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Spend;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// One request end to end: parse → classify → decide → execute → account (ARCHITECTURE §1).
/// Every request that passed authentication is recorded once, served or not.
/// </summary>
public sealed class RequestPipeline(
    IPolicyProvider policies,
    Router router,
    RouteExecutor executor,
    ISpendRecorder spend,
    GatewayMetrics metrics,
    IOptions<OpenAiOptions> options,
    TimeProvider timeProvider,
    IPromptClassifier? classifier = null)
{
    private const string NoRoute = "none";

    private readonly long _maxBodyBytes = options.Value.MaxRequestBodyBytes;

    public async Task HandleAsync(HttpContext http, OpenAiOperation operation)
    {
        var started = timeProvider.GetTimestamp();
        var identity = http.GetClientIdentity();
        var feature = GatewayRequestFeature.Of(http);
        var policy = policies.Current;
        feature.PolicyVersion = policy.Version;

        OpenAiRequest? request = null;
        try
        {
            var body = await RequestBodyReader.ReadAsync(http, _maxBodyBytes, http.RequestAborted);
            request = OpenAiRequest.Parse(operation, body);
            var classification = operation.IsGenerative() ? classifier?.Classify(request.Root) : null;
            var decision = router.Decide(policy, request, classification, new RequestFacts(identity.Team, identity.KeyId, http.Request.Headers));
            metrics.Decided(decision);

            var result = await executor.ExecuteAsync(http, request, decision,
                (route, model, usage) => feature.CostUsd = Pricing.Cost(route.PriceFor(model), usage),
                http.RequestAborted);

            var usage = result.Outcome.Usage;
            spend.Record(new SpendRecord
            {
                RequestId = feature.RequestId,
                Timestamp = timeProvider.GetUtcNow(),
                KeyId = identity.KeyId,
                Team = identity.Team,
                Route = result.Route.Name,
                Model = result.Model,
                Category = classification?.Category,
                NeedsStrong = classification?.NeedsStrong,
                Status = result.Outcome.Status,
                Usage = usage,
                CostUsd = usage is null ? 0 : Pricing.Cost(result.Route.PriceFor(result.Model), usage),
                CounterfactualCostUsd = usage is null || policy.ReferenceRoute is not { } reference
                    ? null
                    : Pricing.Cost(reference.Price, usage),
                Latency = timeProvider.GetElapsedTime(started),
                TimeToFirstByte = result.Outcome.TimeToFirstByte,
                FallbackFrom = result.FallbackFrom,
                PolicyVersion = policy.Version,
                Stream = request.Stream,
            });
        }
        catch (OpenAiException rejected)
        {
            // Refused before any route ran: still a request this team made, so it is recorded.
            spend.Record(new SpendRecord
            {
                RequestId = feature.RequestId,
                Timestamp = timeProvider.GetUtcNow(),
                KeyId = identity.KeyId,
                Team = identity.Team,
                Route = NoRoute,
                Model = NoRoute,
                Status = rejected.Status,
                Latency = timeProvider.GetElapsedTime(started),
                PolicyVersion = policy.Version,
                Stream = request?.Stream ?? false,
            });
            throw;
        }
        finally
        {
            request?.Dispose();
        }
    }
}
