using Gateway.Auth;
using Gateway.Routing;
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
    RequestPlanner planner,
    RouteExecutor executor,
    ISpendRecorder spend,
    BudgetGate budgets,
    Auth.RateLimiter limiter,
    UsageEstimator estimator,
    ResponseAffinity responses,
    GatewayMetrics metrics,
    IOptions<OpenAiOptions> options,
    TimeProvider timeProvider)
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
        PlannedRequest? planned = null;
        RouteDecision? decision = null;
        SpendRecord? record = null;
        BudgetLease? reservation = null;
        Auth.RateLease? rate = null;
        try
        {
            feature.Tags = GatewayTags.Read(http.Request.Headers);
            request = OpenAiRequest.ParseOwned(operation, await RequestBodyReader.ReadPooledAsync(http, _maxBodyBytes, http.RequestAborted));
            if (identity.Models is { } allowed && !allowed.Contains(request.Model))
            {
                throw OpenAiErrors.ModelNotAllowedForKey(request.Model, identity.KeyId);
            }

            planned = await planner.PlanAsync(policy, request, identity.Team, identity.KeyId, http.Request.Headers, null, http.RequestAborted, identity.Budget);
            decision = planned.Decision ?? throw planned.Refusal!;
            metrics.Decided(decision);

            // The key's rate limits, then the team's budget and the key's: all hold their share until the request is recorded.
            rate = await limiter.AcquireAsync(identity, decision.EstimatedTokens, policy.RateLimits.GetValueOrDefault(identity.Team));
            feature.RateLimitHeaders = rate?.Headers;
            reservation = await budgets.LeaseAsync(policy, identity.Team, decision.EstimatedCostUsd, identity.Budget);
            var result = await executor.ExecuteAsync(http, request, decision,
                (route, model, usage) => feature.CostUsd = Pricing.Cost(route.PriceFor(model), usage),
                http.RequestAborted);

            if (result.Outcome.ResponseId is { } responseId && !result.Route.InProcess)
            {
                // The provider stored it: follow-ups and GET/DELETE /v1/responses/{id} must reach the same one.
                responses.Remember(responseId, new ResponseOrigin(result.Route.Name, result.Route.Upstream, identity.Team));
            }

            var usage = result.Outcome.Usage;
            if (usage is null && result.Outcome.CompletionWithoutUsage is { } completion)
            {
                // Served but unreported: count the tokens rather than record a priced request at $0.
                usage = estimator.Estimate(request.Conversation, completion);
                metrics.UsageEstimated(result.Route.Name);
            }
            var cost = usage is null ? 0 : Pricing.Cost(result.Route.PriceFor(result.Model), usage);
            // What the reference route would have cost, like with like: an embedding is not a chat call, and the client
            // names its embedding model (routing did not choose it), so its counterfactual is its own cost.
            decimal? counterfactual = usage is null || policy.ReferenceRoute is not { } reference ? null
                : operation == OpenAiOperation.Embeddings ? cost
                : Pricing.Cost(reference.Price, usage);
            record = Record(operation, identity, feature, policy, request, planned, started, result.Outcome.Status, decision,
                new Served(result.Route.Name, result.Model, usage, cost, counterfactual, result.Outcome.TimeToFirstByte, result.FallbackFrom));
        }
        catch (OpenAiException rejected)
        {
            // Refused before any route ran: still a request this team made, so it is recorded.
            record = Record(operation, identity, feature, policy, request, planned, started, rejected.Status);
            throw;
        }
        catch (BadHttpRequestException bad)
        {
            // The body could not be read (cut short, too slow): answered with this status by OpenAiErrorMiddleware.
            record = Record(operation, identity, feature, policy, request, planned, started, bad.StatusCode, decision);
            throw;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away (nginx's 499): recorded, with whatever route had been chosen.
            record = Record(operation, identity, feature, policy, request, planned, started, ClientClosedRequest, decision);
            throw;
        }
        catch (Exception)
        {
            record = Record(operation, identity, feature, policy, request, planned, started, StatusCodes.Status500InternalServerError, decision);
            throw;
        }
        finally
        {
            request?.Dispose();
            if (record is not null)
            {
                await spend.RecordAsync(record, reservation);
            }

            // Settled by the record when it cost something; released here otherwise.
            reservation?.Dispose();
            // Tokens used settle the reservation; a request that failed without usage used none.
            rate?.Settle(record?.Usage is { } used ? (long)used.PromptTokens + used.CompletionTokens
                : record is { Status: >= 200 and < 300 } ? null : 0);
        }
    }

    private const int ClientClosedRequest = 499;

    /// <summary>What a served request adds to its ledger row.</summary>
    private readonly record struct Served(string Route, string Model, Usage? Usage, decimal CostUsd, decimal? CounterfactualCostUsd,
        TimeSpan? TimeToFirstByte, string? FallbackFrom);

    /// <summary>
    /// The request's ledger row, built once: refused (no decision, or the route it was refused on) or
    /// <paramref name="served"/>; with what the planner saw whenever a plan was made.
    /// </summary>
    private SpendRecord Record(OpenAiOperation operation, ClientIdentity identity, GatewayRequestFeature feature, RoutingPolicy policy, OpenAiRequest? request,
        PlannedRequest? planned, long started, int status, RouteDecision? decision = null, Served? served = null) => new()
    {
        RequestId = feature.RequestId,
        Timestamp = timeProvider.GetUtcNow(),
        KeyId = identity.KeyId,
        Team = identity.Team,
        KeyBudget = identity.Budget,
        Route = served?.Route ?? decision?.Route.Name ?? NoRoute,
        Model = served?.Model ?? decision?.TargetModel ?? NoRoute,
        Category = planned?.Classification?.Category,
        NeedsStrong = planned?.Classification?.NeedsStrong,
        Status = status,
        Usage = served?.Usage,
        CostUsd = served?.CostUsd ?? 0,
        CounterfactualCostUsd = served?.CounterfactualCostUsd,
        ExpectedQuality = served is null ? null : decision?.ExpectedQuality,
        ReferenceQuality = served is null ? null : decision?.ReferenceQuality,
        TimeToFirstByte = served?.TimeToFirstByte,
        FallbackFrom = served?.FallbackFrom,
        Latency = timeProvider.GetElapsedTime(started),
        PolicyVersion = policy.Version,
        Stream = request?.Stream ?? false,
        Operation = operation.LedgerName(),
        EndUser = request?.EndUser,
        Tags = feature.Tags,
        Metadata = request?.Metadata,
        DecisionFacts = planned is not null && request is not null
            ? DecisionFacts.Of(policy, request.Shape, planned.Classification, planned.Facts).ToJson()
            : null,
    };
}
