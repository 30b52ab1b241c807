using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;

namespace Gateway.Routing;

/// <summary>
/// Decides the route of a request from the policy snapshot and the request's facts. Pure: it reads
/// the snapshot and never mutates it, so decisions are testable without HTTP.
/// </summary>
public sealed class Router
{
    /// <exception cref="OpenAiException">404 when the requested model is neither <c>auto</c>, a route nor a model the policy serves.</exception>
    public RouteDecision Decide(RoutingPolicy policy, OpenAiRequest request, PromptClassification? classification)
    {
        var requested = request.Model;
        if (request.Operation == OpenAiOperation.Embeddings)
        {
            // Embedding vectors are only comparable within one model, so the client names it.
            return policy.RoutesByModel.TryGetValue(requested, out var embeddingRoute)
                ? Decision(policy, embeddingRoute, requested, $"model '{requested}' pinned by the client")
                : throw OpenAiErrors.ModelNotFound(requested);
        }

        if (string.Equals(requested, OpenAiRequest.AutoModel, StringComparison.Ordinal))
        {
            var route = policy.DefaultRoute;
            return Decision(policy, route, route.Model, $"default route '{route.Name}' of policy {policy.Version}");
        }

        if (policy.RoutesByName.TryGetValue(requested, out var named))
        {
            return Decision(policy, named, named.Model, $"route '{named.Name}' pinned by the client");
        }

        if (policy.RoutesByModel.TryGetValue(requested, out var byModel))
        {
            return Decision(policy, byModel, requested, $"model '{requested}' pinned by the client (route '{byModel.Name}')");
        }

        throw OpenAiErrors.ModelNotFound(requested);
    }

    private static RouteDecision Decision(RoutingPolicy policy, PolicyRoute route, string model, string reason)
    {
        var fallbacks = route.Fallbacks.Count == 0
            ? []
            : route.Fallbacks.Select(name => policy.RoutesByName[name]).ToArray();
        return new RouteDecision(route, model, reason, fallbacks);
    }
}
