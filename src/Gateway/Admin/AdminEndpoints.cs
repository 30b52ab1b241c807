using System.Text.Json.Serialization;
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
        admin.MapGet("/status", (HttpContext http) => TypedResults.Ok(AdminStatus.Of(http.RequestServices)));
        // Scopes by area; /status needs any admin key.
        var policy = admin.MapGroup("").RequireScope(AdminScopes.PolicyWrite);
        policy.MapClassify();
        policy.MapPolicyAdmin();
        admin.MapGroup("").RequireScope(AdminScopes.SpendRead).MapSpendAdmin();
        admin.MapGroup("").RequireScope(AdminScopes.KnowledgeWrite).MapKnowledgeAdmin();
        admin.MapGroup("").RequireScope(AdminScopes.KeysWrite).MapKeyAdmin();
        return endpoints;
    }
}

/// <summary>What the gateway is running with; never includes a key. Snake_case like every other admin body.</summary>
public sealed record AdminStatus(
    [property: JsonPropertyName("policy_version")] string PolicyVersion,
    [property: JsonPropertyName("classifier_version")] string ClassifierVersion,
    [property: JsonPropertyName("default_route")] string DefaultRoute,
    [property: JsonPropertyName("routes")] IReadOnlyList<AdminRouteStatus> Routes,
    [property: JsonPropertyName("upstreams")] IReadOnlyList<AdminUpstreamStatus> Upstreams,
    [property: JsonPropertyName("local_models")] IReadOnlyList<AdminLocalModelStatus> LocalModels,
    [property: JsonPropertyName("client_keys")] int ClientKeys,
    [property: JsonPropertyName("schema")] AdminSchemaStatus Schema)
{
    /// <summary>The gateway's state now (shared by <c>GET /admin/status</c> and the console's status page).</summary>
    public static AdminStatus Of(IServiceProvider services)
    {
        var policy = services.GetRequiredService<IPolicyProvider>().Current;
        var classifier = services.GetRequiredService<OnnxPromptClassifier>();
        var upstreams = services.GetRequiredService<UpstreamRegistry>();
        var localModels = services.GetRequiredService<Targets.Local.LocalModelHost>();
        return new AdminStatus(
            policy.Version,
            classifier.ModelVersion ?? "not loaded",
            policy.DefaultRoute.Name,
            policy.Routes.Select(r => new AdminRouteStatus(r.Name, r.Kind, r.Upstream, r.Model, r.Fallbacks, r.Available, r.UnavailableReason)).ToArray(),
            upstreams.All.Select(u => new AdminUpstreamStatus(u.Name, u.BaseUrl, u.Deployments.All(d => d.ApiKey is not null), u.CircuitState,
                u.Deployments.Select(d => new AdminDeploymentStatus(d.Name, d.BaseUrl, d.Priority, d.Weight, d.Circuit.State)).ToArray())).ToArray(),
            localModels.Names.Order(StringComparer.Ordinal)
                .Select(n => localModels[n] is { } m ? new AdminLocalModelStatus(n, m.Options.Path, m.Failure is null, m.Failure) : new AdminLocalModelStatus(n, "", false, "not loaded yet"))
                .ToArray(),
            services.GetRequiredService<ClientKeyStore>().Count,
            new AdminSchemaStatus(services.GetRequiredService<Hosting.GatewayDatabase>().SchemaVersion, Hosting.GatewaySchema.Latest));
    }
}

/// <summary>The database's schema version as this replica last found it (null: not reached yet) and the newest this release knows.</summary>
public sealed record AdminSchemaStatus(
    [property: JsonPropertyName("version")] int? Version,
    [property: JsonPropertyName("latest_known")] int LatestKnown);

public sealed record AdminRouteStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("upstream")] string? Upstream,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("fallbacks")] IReadOnlyList<string> Fallbacks,
    [property: JsonPropertyName("available")] bool Available,
    [property: JsonPropertyName("unavailable_reason")] string? UnavailableReason);

public sealed record AdminUpstreamStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("base_url")] string BaseUrl,
    [property: JsonPropertyName("has_api_key")] bool HasApiKey,
    [property: JsonPropertyName("circuit")] string Circuit,
    [property: JsonPropertyName("deployments")] IReadOnlyList<AdminDeploymentStatus> Deployments);

public sealed record AdminDeploymentStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("base_url")] string BaseUrl,
    [property: JsonPropertyName("priority")] int Priority,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("circuit")] string Circuit);

public sealed record AdminLocalModelStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("loaded")] bool Loaded,
    [property: JsonPropertyName("failure")] string? Failure);
