using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Gateway.Auth;
using Gateway.OpenAi;

namespace Gateway.Admin;

/// <summary>
/// <c>/admin/keys</c>: client keys created, listed, changed, rotated and revoked at runtime. The secret is in the answer
/// to create and rotate only; every change is audited (<c>GET /admin/keys/audit</c>).
/// </summary>
internal static partial class KeyEndpoints
{
    private static readonly TimeSpan DefaultGrace = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxGrace = TimeSpan.FromDays(30);

    public static void MapKeyAdmin(this RouteGroupBuilder admin)
    {
        var keys = admin.MapGroup("/keys");
        keys.MapPost("", async (HttpContext http, VirtualKeyStore store, ClientKeyStore staticKeys, TimeProvider time, ILogger<VirtualKeyStore> logger) =>
        {
            var (request, _) = await ReadAsync(http, creating: true, time);
            if (staticKeys.HasName(request.Name!))
            {
                throw OpenAiErrors.InvalidParameter("name", $"A key named '{request.Name}' is configured under Auth:Keys (names are unique: the ledger records spend by key name).");
            }

            var (key, secret) = await store.CreateAsync(request, http.GetAdminActor(), http.RequestAborted);
            Telemetry.Log.KeyChanged(logger, key.Id, key.Name, key.Team, "created", http.GetAdminActor());
            return TypedResults.Json(View(key, time.GetUtcNow(), secret), statusCode: StatusCodes.Status201Created);
        });

        keys.MapGet("", (VirtualKeyStore store, TimeProvider time, string? team) =>
        {
            var now = time.GetUtcNow();
            return TypedResults.Ok(new KeyList(store.All.Where(k => team is null || k.Team == team).Select(k => View(k, now)).ToArray()));
        });

        keys.MapGet("/audit", async (VirtualKeyStore store, HttpContext http, string? key, int? limit) =>
            TypedResults.Ok(new KeyAuditList((await store.AuditLogAsync(key, Math.Clamp(limit ?? 100, 1, 1000), http.RequestAborted))
                .Select(e => new KeyAuditView(e.Id, e.At, e.Actor, e.Action, e.KeyId, JsonDocument.Parse(e.Detail).RootElement.Clone())).ToArray())));

        keys.MapGet("/{id}", (string id, VirtualKeyStore store, TimeProvider time) =>
            TypedResults.Ok(View(store[id] ?? throw NotFound(id), time.GetUtcNow())));

        keys.MapPatch("/{id}", async (string id, HttpContext http, VirtualKeyStore store, TimeProvider time, ILogger<VirtualKeyStore> logger) =>
        {
            var (request, present) = await ReadAsync(http, creating: false, time);
            var key = await store.UpdateAsync(id, request, present, http.GetAdminActor(), http.RequestAborted) ?? throw NotFoundOrRevoked(store, id);
            Telemetry.Log.KeyChanged(logger, key.Id, key.Name, key.Team, "updated", http.GetAdminActor());
            return TypedResults.Ok(View(key, time.GetUtcNow()));
        });

        keys.MapPost("/{id}/rotate", async (string id, HttpContext http, VirtualKeyStore store, TimeProvider time, ILogger<VirtualKeyStore> logger) =>
        {
            var grace = await ReadGraceAsync(http);
            var (key, secret) = await store.RotateAsync(id, grace, http.GetAdminActor(), http.RequestAborted) ?? throw NotFoundOrRevoked(store, id);
            Telemetry.Log.KeyChanged(logger, key.Id, key.Name, key.Team, "rotated", http.GetAdminActor());
            return TypedResults.Ok(View(key, time.GetUtcNow(), secret));
        });

        keys.MapDelete("/{id}", async (string id, HttpContext http, VirtualKeyStore store, TimeProvider time, ILogger<VirtualKeyStore> logger) =>
        {
            var key = await store.RevokeAsync(id, http.GetAdminActor(), http.RequestAborted) ?? throw NotFound(id);
            Telemetry.Log.KeyChanged(logger, key.Id, key.Name, key.Team, "revoked", http.GetAdminActor());
            return TypedResults.Ok(View(key, time.GetUtcNow()));
        });
    }

    private static async Task<(KeyRequest Request, IReadOnlySet<string> Present)> ReadAsync(HttpContext http, bool creating, TimeProvider time)
    {
        var body = await RequestBodyReader.ReadAsync(http, 64 * 1024, http.RequestAborted);
        using var json = JsonBody.Parse(body);
        if (json.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw OpenAiErrors.InvalidJson("the body must be a JSON object");
        }

        var present = json.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        KeyRequest request;
        try
        {
            request = json.RootElement.Deserialize<KeyRequest>(KeyRequest.Options)!;
        }
        catch (JsonException ex)
        {
            var param = ex.Path is { Length: > 2 } path ? path[2..] : null;
            throw param is null
                ? OpenAiErrors.InvalidJson(ex.Message)
                : OpenAiErrors.InvalidParameter(param, present.Contains(param.Split('[', '.')[0])
                    ? $"Invalid '{param}': {ex.Message.Split(". Path:")[0]}."
                    : $"Unknown field '{param}'.");
        }

        Validate(request, creating, time, http.RequestServices.GetRequiredService<Policies.IPolicyProvider>());
        return (request, present);
    }

    /// <summary>
    /// What a key change must satisfy, for the API and the console alike: the validator's rules, and a budget's
    /// <c>downgrade_to</c> naming a route of the current policy. Throws a 400 naming every problem.
    /// </summary>
    internal static void Validate(KeyRequest request, bool creating, TimeProvider time, Policies.IPolicyProvider policies)
    {
        var result = new KeyRequestValidator(creating, time).Validate(request);
        if (result.IsValid && request.Budget?.DowngradeTo is { } route && !policies.Current.RoutesByName.ContainsKey(route))
        {
            throw OpenAiErrors.InvalidParameter("budget.downgrade_to", $"Invalid key: budget.downgrade_to: '{route}' is not a route of the current policy.");
        }

        if (!result.IsValid)
        {
            var errors = result.Errors.Select(e => $"{SnakeCase(e.PropertyName)}: {e.ErrorMessage}").ToArray();
            throw new OpenAiException(400, $"Invalid key: {string.Join("; ", errors)}", OpenAiErrors.InvalidRequest, "invalid_value",
                SnakeCase(result.Errors[0].PropertyName)) { Errors = errors };
        }
    }

    private static async Task<TimeSpan> ReadGraceAsync(HttpContext http)
    {
        var body = await RequestBodyReader.ReadAsync(http, 4 * 1024, http.RequestAborted);
        if (body.IsEmpty)
        {
            return DefaultGrace;
        }

        using var json = JsonBody.Parse(body);
        if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("grace_seconds", out var value))
        {
            return DefaultGrace;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds) && seconds >= 0 && seconds <= MaxGrace.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw OpenAiErrors.InvalidParameter("grace_seconds", $"'grace_seconds' must be a whole number of seconds from 0 to {(long)MaxGrace.TotalSeconds} (how long the old secret keeps working).");
    }

    private static OpenAiException NotFound(string id) =>
        new(404, $"No key with id '{id}'.", OpenAiErrors.InvalidRequest, "key_not_found", "id");

    private static OpenAiException NotFoundOrRevoked(VirtualKeyStore store, string id) => store[id] is null
        ? NotFound(id)
        : new OpenAiException(409, $"Key '{id}' is revoked; a revoked key cannot be changed or rotated. Create a new key.", OpenAiErrors.InvalidRequest, "key_revoked", "id");

    /// <summary><c>RpmLimit</c> → <c>rpm_limit</c>, <c>Models[0]</c> → <c>models[0]</c>.</summary>
    private static string SnakeCase(string property) => Pascal().Replace(property, m => (m.Index > 0 && property[m.Index - 1] != '.' ? "_" : "") + m.Value.ToLowerInvariant());

    [GeneratedRegex("[A-Z]")]
    private static partial Regex Pascal();

    private static KeyView View(VirtualKey key, DateTimeOffset now, string? secret = null) => new(
        key.Id, key.Name, key.IsAdmin ? null : key.Team, key.Scopes, key.Owner, key.Metadata, key.Models, key.RpmLimit, key.TpmLimit, key.Prefix + "…",
        key.Status(now), key.CreatedAt, key.UpdatedAt, key.ExpiresAt, key.RevokedAt,
        key.PreviousValidUntil > now ? key.PreviousValidUntil : null,
        key.Budget is { } b ? new KeyBudgetView(b.DailyUsd, b.MonthlyUsd, b.OnExceed == Policies.BudgetAction.Downgrade ? "downgrade" : "reject", b.DowngradeTo) : null,
        secret);
}

/// <summary>A key as the admin API shows it; <c>key</c> (the secret) only in the answer to create and rotate.</summary>
internal sealed record KeyView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("team")] string? Team,
    [property: JsonPropertyName("scopes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Scopes,
    [property: JsonPropertyName("owner")] string? Owner,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata,
    [property: JsonPropertyName("models")] IReadOnlyList<string>? Models,
    [property: JsonPropertyName("rpm_limit")] int? RpmLimit,
    [property: JsonPropertyName("tpm_limit")] long? TpmLimit,
    [property: JsonPropertyName("key_prefix")] string KeyPrefix,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt,
    [property: JsonPropertyName("revoked_at")] DateTimeOffset? RevokedAt,
    [property: JsonPropertyName("previous_key_valid_until")] DateTimeOffset? PreviousKeyValidUntil,
    [property: JsonPropertyName("budget")] KeyBudgetView? Budget,
    [property: JsonPropertyName("key"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key);

internal sealed record KeyBudgetView(
    [property: JsonPropertyName("daily_usd")] decimal? DailyUsd,
    [property: JsonPropertyName("monthly_usd")] decimal? MonthlyUsd,
    [property: JsonPropertyName("on_exceed")] string OnExceed,
    [property: JsonPropertyName("downgrade_to")] string? DowngradeTo);

internal sealed record KeyList([property: JsonPropertyName("data")] IReadOnlyList<KeyView> Data);

internal sealed record KeyAuditView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("actor")] string Actor,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("key_id")] string KeyId,
    [property: JsonPropertyName("detail")] JsonElement Detail);

internal sealed record KeyAuditList([property: JsonPropertyName("data")] IReadOnlyList<KeyAuditView> Data);
