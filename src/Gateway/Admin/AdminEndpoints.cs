using Gateway.Auth;
using Gateway.Classification;
using Gateway.Policies;
using Gateway.Targets.Hosted;

namespace Gateway.Admin;

public static class AdminEndpoints
{
    /// <summary>Maps <c>/admin</c>, all behind <c>Auth:AdminKey</c>.</summary>
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").RequireAdminKey();
        admin.MapGet("/status", (IPolicyProvider policies, OnnxPromptClassifier classifier, UpstreamRegistry upstreams, ClientKeyStore keys,
            Targets.Local.LocalModelHost localModels) =>
        {
            var policy = policies.Current;
            return TypedResults.Ok(new AdminStatus(
                policy.Version,
                classifier.ModelVersion ?? "not loaded",
                policy.DefaultRoute.Name,
                policy.Routes.Select(r => new AdminRouteStatus(r.Name, r.Kind, r.Upstream, r.Model, r.Fallbacks)).ToArray(),
                upstreams.All.Select(u => new AdminUpstreamStatus(u.Name, u.BaseUrl, u.ApiKey is not null)).ToArray(),
                localModels.Names.Order(StringComparer.Ordinal)
                    .Select(n => localModels[n] is { } m ? new AdminLocalModelStatus(n, m.Options.Path, m.Failure is null, m.Failure) : new AdminLocalModelStatus(n, "", false, "not loaded yet"))
                    .ToArray(),
                keys.Count));
        });
        admin.MapClassify();
        admin.MapPolicyAdmin();
        admin.MapSpendAdmin();
        admin.MapKnowledgeAdmin();
        return endpoints;
    }
}

/// <summary>What the gateway is running with; never includes a key.</summary>
public sealed record AdminStatus(
    string PolicyVersion,
    string ClassifierVersion,
    string DefaultRoute,
    IReadOnlyList<AdminRouteStatus> Routes,
    IReadOnlyList<AdminUpstreamStatus> Upstreams,
    IReadOnlyList<AdminLocalModelStatus> LocalModels,
    int ClientKeys);

public sealed record AdminRouteStatus(string Name, string Kind, string? Upstream, string Model, IReadOnlyList<string> Fallbacks);

public sealed record AdminUpstreamStatus(string Name, string BaseUrl, bool HasApiKey);

public sealed record AdminLocalModelStatus(string Name, string Path, bool Loaded, string? Failure);
