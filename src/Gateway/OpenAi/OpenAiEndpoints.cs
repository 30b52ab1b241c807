using Gateway.Auth;
using Gateway.Policies;
using Gateway.Routing;
using Gateway.Targets.Hosted;

namespace Gateway.OpenAi;

public static class OpenAiEndpoints
{
    /// <summary>Maps the OpenAI-compatible surface under <c>/v1</c>, all behind a client key.</summary>
    public static IEndpointRouteBuilder MapOpenAi(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").RequireClientKey();
        v1.MapPost("/chat/completions", (HttpContext http, RequestPipeline pipeline) =>
            pipeline.HandleAsync(http, OpenAiOperation.ChatCompletions));
        v1.MapPost("/completions", (HttpContext http, RequestPipeline pipeline) =>
            pipeline.HandleAsync(http, OpenAiOperation.Completions));
        v1.MapPost("/embeddings", (HttpContext http, RequestPipeline pipeline) =>
            pipeline.HandleAsync(http, OpenAiOperation.Embeddings));
        v1.MapPost("/responses", (HttpContext http, RequestPipeline pipeline) =>
            pipeline.HandleAsync(http, OpenAiOperation.Responses));
        // A stored response lives at the provider that created it.
        v1.MapGet("/responses/{id}", (HttpContext http, StoredResponses stored, string id) => stored.ForwardAsync(http, http.GetClientIdentity().Team, id, ""));
        v1.MapDelete("/responses/{id}", (HttpContext http, StoredResponses stored, string id) => stored.ForwardAsync(http, http.GetClientIdentity().Team, id, ""));
        v1.MapGet("/responses/{id}/input_items", (HttpContext http, StoredResponses stored, string id) => stored.ForwardAsync(http, http.GetClientIdentity().Team, id, "/input_items"));
        v1.MapPost("/responses/{id}/cancel", (HttpContext http, StoredResponses stored, string id) => stored.ForwardAsync(http, http.GetClientIdentity().Team, id, "/cancel"));
        v1.MapGet("/models", (HttpContext http, IPolicyProvider policies) =>
            TypedResults.Json(ListModels(policies.Current, http.GetClientIdentity()), OpenAiJsonContext.Wire.ModelList));
        return endpoints;
    }

    /// <summary><c>auto</c>, then every route name and concrete model that the caller's team (and key) may pin (the others would 403).</summary>
    internal static ModelList ListModels(RoutingPolicy policy, ClientIdentity identity)
    {
        var listed = ListModels(policy, identity.Team);
        return identity.Models is { } allowed ? listed with { Data = [.. listed.Data.Where(m => allowed.Contains(m.Id))] } : listed;
    }

    internal static ModelList ListModels(RoutingPolicy policy, string team)
    {
        var created = policy.LoadedAt.ToUnixTimeSeconds();
        var models = new List<ModelEntry> { new(OpenAiRequest.AutoModel, "model", created, "gateway") };
        var seen = new HashSet<string>(StringComparer.Ordinal) { OpenAiRequest.AutoModel };
        foreach (var route in policy.Routes)
        {
            if (route.CanBePinnedBy(team) && seen.Add(route.Name))
            {
                models.Add(new ModelEntry(route.Name, "model", created, "gateway"));
            }
        }

        foreach (var (model, route) in policy.RoutesByModel)
        {
            if (route.CanBePinnedBy(team) && seen.Add(model))
            {
                models.Add(new ModelEntry(model, "model", created, route.Upstream ?? route.Kind));
            }
        }

        return new ModelList("list", models);
    }
}
