using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Spend;
using Gateway.Telemetry;

namespace Gateway.Routing;

/// <summary>What planning a request produced: the facts the decision was made on, and the decision or the refusal.</summary>
public sealed record PlannedRequest(PromptClassification? Classification, RequestFacts Facts, RouteDecision? Decision, OpenAiException? Refusal);

/// <summary>
/// The one way a parsed request becomes a routing decision, shared by the live path and <c>/admin/route/explain</c>:
/// classify (generative operations), gather the facts (retrieval relevance, the team's budget state, read once), then
/// the pure <see cref="Router"/>. Nothing here reserves, records or forwards, so explaining a request cannot
/// diverge from serving it.
/// </summary>
public sealed class RequestPlanner(Router router, RetrievalRelevance relevance, BudgetGate budgets, OutputTokenStats outputTokens,
    ResponseAffinity responses, GatewayMetrics metrics, TimeProvider timeProvider, IPromptClassifier? classifier = null,
    Microsoft.Extensions.Options.IOptions<ClassifierOptions>? classifierOptions = null)
{
    private readonly IPromptClassifier? _classifier = classifierOptions?.Value.OnRequestPath == false ? null : classifier;

    /// <param name="trace">Filled for an explanation (which then leaves the live path's timing metrics alone).</param>
    /// <param name="keyBudget">The calling key's own budget, if it has one.</param>
    public async Task<PlannedRequest> PlanAsync(RoutingPolicy policy, OpenAiRequest request, string team, string keyId,
        IHeaderDictionary? headers, DecisionTrace? trace, CancellationToken cancellationToken, TeamBudget? keyBudget = null)
    {
        PromptClassification? classification = null;
        if (request.Operation.IsGenerative() && _classifier is not null)
        {
            var started = timeProvider.GetTimestamp();
            classification = _classifier.Classify(request.Conversation);
            if (trace is null)
            {
                metrics.ClassifierTime(timeProvider.GetElapsedTime(started));
            }
        }

        var facts = new RequestFacts(team, keyId, headers, await relevance.MeasureAsync(policy, request, cancellationToken),
            await budgets.StateForAsync(policy, team, exact: trace is not null), outputTokens.Typical,
            request.PreviousResponseId is { } previous ? await responses.FindAsync(previous, team) : null,
            keyBudget, keyBudget is null ? default : await budgets.StateAsync(keyBudget, exact: trace is not null));
        var step = timeProvider.GetTimestamp();
        try
        {
            var decision = router.Decide(policy, request, classification, facts, trace);
            if (trace is null)
            {
                metrics.DecisionTime(timeProvider.GetElapsedTime(step));
            }
            return new PlannedRequest(classification, facts, decision, null);
        }
        catch (OpenAiException refused)
        {
            return new PlannedRequest(classification, facts, null, refused);
        }
    }
}
