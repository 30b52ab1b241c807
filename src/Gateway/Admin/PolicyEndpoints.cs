using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Auth;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Admin;

/// <summary>
/// <c>/admin/policy</c> (get, validate, put, history, rollback) and <c>/admin/route/explain</c>.
/// Policy bodies are the YAML document itself (any text content type) or <c>{"document": "…"}</c>.
/// </summary>
internal static class PolicyEndpoints
{
    public static void MapPolicyAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/policy", (FilePolicyProvider provider) =>
        {
            var policy = provider.Current;
            return TypedResults.Ok(new PolicyResponse(policy.Version, policy.LoadedAt, provider.FilePath, policy.Document,
                policy.Routes.Select(r => new PolicyRouteSummary(r.Name, r.Kind, r.Model, r.Available, r.UnavailableReason)).ToArray()));
        });

        admin.MapPost("/policy/validate", async (HttpContext http, PolicyLoader loader, IOptions<OpenAiOptions> options) =>
        {
            var result = loader.Load(await ReadDocumentAsync(http, options.Value));
            return TypedResults.Ok(new ValidationResponse(result.Policy is not null, result.Policy?.Version, result.Errors, result.Warnings ?? []));
        });

        // Replays recorded traffic under a draft (the body, as validate takes it), or under the live policy without one.
        admin.MapPost("/policy/simulate", async (HttpContext http, PolicyLoader loader, IPolicyProvider policies, PolicySimulator simulator,
            SimulationLog log, IOptions<OpenAiOptions> options, TimeProvider time, string? from, string? to, string? team) =>
        {
            var now = time.GetUtcNow();
            var start = SpendEndpoints.Parse(from, "from") ?? now.AddDays(-7);
            var end = SpendEndpoints.Parse(to, "to") ?? now.AddSeconds(1);
            if (end <= start)
            {
                throw OpenAiErrors.InvalidParameter("to", "'to' must be after 'from'.");
            }

            var policy = policies.Current;
            if (http.Request.ContentLength is not 0)
            {
                var draft = loader.Load(await ReadDocumentAsync(http, options.Value));
                policy = draft.Policy ?? throw OpenAiErrors.InvalidPolicy(draft.Errors);
            }

            var scope = string.IsNullOrWhiteSpace(team) ? null : team;
            var result = await simulator.RunAsync(policy, start, end, scope, http.RequestAborted);
            return TypedResults.Ok(result with { SimulationId = log.Record(result, scope) });
        });

        admin.MapPut("/policy", async (HttpContext http, FilePolicyProvider provider, PolicyLoader loader, SimulationLog simulations,
            IOptions<OpenAiOptions> options, IOptions<PolicyOptions> policyOptions, string? simulation) =>
        {
            var before = provider.Current.Version;
            var document = await ReadDocumentAsync(http, options.Value);
            string? evidence = null;
            if (simulation is not null || policyOptions.Value.RequireSimulation)
            {
                // The simulation must be of this exact document (its version is the document's hash).
                var version = loader.Load(document).Policy?.Version;
                evidence = simulation is null || version is null ? null : simulations.Find(simulation, version);
                if (evidence is null && version is not null)
                {
                    throw new OpenAiException(400, simulation is null
                            ? "This gateway applies a policy only after a simulation of it (Policies:RequireSimulation): POST the document to /admin/policy/simulate, then PUT it with ?simulation=<simulation_id>."
                            : $"Simulation '{simulation}' is unknown here, expired, or of a different document: simulate this exact document again.",
                        OpenAiErrors.InvalidRequest, simulation is null ? "simulation_required" : "simulation_mismatch", "simulation");
                }
            }

            var result = await ApplyAsync(provider, document, http.GetAdminActor(), "api", http.RequestAborted, evidence);
            return result.Policy is null
                ? throw OpenAiErrors.InvalidPolicy(result.Errors)
                : TypedResults.Ok(new AppliedResponse(result.Policy.Version, before, result.Policy.Version != before, result.Warnings ?? []));
        });

        admin.MapGet("/policy/history", async (PolicyAuditStore audit, HttpContext http, int? limit) =>
            TypedResults.Ok(new HistoryResponse(await audit.HistoryAsync(Math.Clamp(limit ?? 50, 1, 1000), http.RequestAborted))));

        admin.MapPost("/policy/rollback/{version}", async (string version, FilePolicyProvider provider, PolicyAuditStore audit, HttpContext http) =>
        {
            var document = await audit.DocumentAsync(version, http.RequestAborted) ?? throw OpenAiErrors.PolicyVersionNotFound(version);
            var before = provider.Current.Version;
            // Validated against today's configuration: a version naming an upstream removed since is refused, not applied.
            var result = await ApplyAsync(provider, document, http.GetAdminActor(), "rollback", http.RequestAborted);
            return result.Policy is null
                ? throw OpenAiErrors.InvalidPolicy(result.Errors)
                : TypedResults.Ok(new AppliedResponse(result.Policy.Version, before, result.Policy.Version != before, result.Warnings ?? []));
        });

        admin.MapPost("/route/explain", async (HttpContext http, IPolicyProvider policies, RequestPlanner planner, IOptions<OpenAiOptions> options,
            Auth.VirtualKeyStore keys, string? team, string? key) =>
        {
            var body = await RequestBodyReader.ReadAsync(http, options.Value.MaxRequestBodyBytes, http.RequestAborted);
            // A chat body (messages) or a Responses body (input/instructions) explains as its own operation.
            using var request = OpenAiRequest.Parse(OpenAiRequest.ChatOrResponses(body.Span), body);
            var policy = policies.Current;
            var trace = new DecisionTrace();
            // The same planning as a live request (classification, facts, budget state, decision), minus serving it.
            // ?key= names a runtime key: its own budget is judged too.
            var keyBudget = key is null ? null : keys.All.FirstOrDefault(k => k.Name == key && k.RevokedAt is null)?.Budget;
            var planned = await planner.PlanAsync(policy, request, team ?? "unknown", key ?? "unknown", http.Request.Headers, trace, http.RequestAborted, keyBudget);
            var (classification, facts, decision) = (planned.Classification!, planned.Facts, planned.Decision);
            var refused = planned.Refusal is { } ex ? ex.ToBody().Error with { Code = $"{ex.Status}:{ex.Code}" } : null;

            return TypedResults.Ok(new ExplainResponse(
                policy.Version,
                new ClassifyResponse(classification.Category, classification.Scores, classification.NeedsStrong, classification.Confidence, classification.ModelVersion),
                new ExplainFacts(facts.Team, facts.KeyId, request.Model, request.Stream, request.HasTools, request.MaxTokens),
                trace,
                decision is null ? null : new ExplainDecision(decision.Route.Name, decision.Route.Kind, decision.TargetModel, decision.Via, decision.Rule,
                    decision.Reason, decision.EstimatedCostUsd, decision.ExpectedQuality is { } q ? Math.Round(q, 4) : null),
                decision?.Fallbacks.Select(f => f.Name).ToArray() ?? [],
                refused));
        });
    }

    private static async Task<PolicyLoadResult> ApplyAsync(FilePolicyProvider provider, string document, string actor, string source, CancellationToken cancellationToken,
        string? simulation = null)
    {
        try
        {
            return await provider.ApplyAsync(document, actor, source, cancellationToken, simulation);
        }
        catch (PolicyWriteException ex)
        {
            throw OpenAiErrors.PolicyNotWritable(ex.Message);
        }
    }

    private static async Task<string> ReadDocumentAsync(HttpContext http, OpenAiOptions options)
    {
        var body = await RequestBodyReader.ReadAsync(http, options.MaxRequestBodyBytes, http.RequestAborted);
        if (http.Request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var json = JsonBody.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                   && json.RootElement.TryGetProperty("document"u8, out var document) && document.ValueKind == JsonValueKind.String
                ? document.GetString()!
                : throw OpenAiErrors.InvalidParameter("document", "Send the YAML as the body (Content-Type: application/yaml) or as {\"document\": \"…\"}.");
        }

        return body.IsEmpty ? throw OpenAiErrors.MissingParameter("document") : Encoding.UTF8.GetString(body.Span);
    }
}

public sealed record PolicyRouteSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("available")] bool Available,
    [property: JsonPropertyName("unavailable_reason")] string? UnavailableReason);

public sealed record PolicyResponse(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("loaded_at")] DateTimeOffset LoadedAt,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("document")] string Document,
    [property: JsonPropertyName("routes")] IReadOnlyList<PolicyRouteSummary> Routes);

public sealed record ValidationResponse(
    [property: JsonPropertyName("valid")] bool Valid,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("errors")] IReadOnlyList<string> Errors,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string> Warnings);

public sealed record AppliedResponse(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("previous_version")] string PreviousVersion,
    [property: JsonPropertyName("changed")] bool Changed,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string> Warnings);

public sealed record HistoryResponse([property: JsonPropertyName("entries")] IReadOnlyList<PolicyAuditEntry> Entries);

public sealed record ExplainFacts(
    [property: JsonPropertyName("team")] string Team,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("stream")] bool Stream,
    [property: JsonPropertyName("tools")] bool Tools,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens);

public sealed record ExplainDecision(
    [property: JsonPropertyName("route")] string Route,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("via")] string Via,
    [property: JsonPropertyName("rule")] string? Rule,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("estimated_cost_usd")] decimal EstimatedCostUsd,
    [property: JsonPropertyName("expected_quality")] double? ExpectedQuality);

public sealed record ExplainResponse(
    [property: JsonPropertyName("policy_version")] string PolicyVersion,
    [property: JsonPropertyName("classification")] ClassifyResponse Classification,
    [property: JsonPropertyName("facts")] ExplainFacts Facts,
    [property: JsonPropertyName("trace")] DecisionTrace Trace,
    [property: JsonPropertyName("decision")] ExplainDecision? Decision,
    [property: JsonPropertyName("fallbacks")] IReadOnlyList<string> Fallbacks,
    [property: JsonPropertyName("refused")] OpenAiErrorDetail? Refused);
