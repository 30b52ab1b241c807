using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Retrieval;

namespace Gateway.Routing;

/// <summary>
/// The best knowledge-base match for a prompt, the <c>retrieval_relevance</c> fact rules match on.
/// Computed only when a rule uses it and a local route with a collection can serve (an embedding
/// costs milliseconds); the query embedding is cached, so the local route's own retrieval reuses it.
/// </summary>
public sealed class RetrievalRelevance(KnowledgeBase knowledge)
{
    public async Task<double?> MeasureAsync(RoutingPolicy policy, OpenAiRequest request, CancellationToken cancellationToken)
    {
        if (!policy.UsesRetrievalRelevance || request.Operation is not (OpenAiOperation.ChatCompletions or OpenAiOperation.Responses)
            || policy.Routes.FirstOrDefault(r => r is { InProcess: true, Available: true, Knowledge: not null }) is not { } route)
        {
            return null;
        }

        var best = await knowledge.SearchAsync(route.Knowledge!, request.Conversation.LastUserText(), 1, -1f, cancellationToken);
        return best.Count == 0 ? null : best[0].Score;
    }
}
