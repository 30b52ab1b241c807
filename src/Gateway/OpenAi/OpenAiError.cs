using System.Text.Json.Serialization;

namespace Gateway.OpenAi;

/// <summary>The body of every client-facing error: <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed record OpenAiErrorBody([property: JsonPropertyName("error")] OpenAiErrorDetail Error);

/// <summary>The detail of an OpenAI-style error.</summary>
public sealed record OpenAiErrorDetail(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("errors"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Errors = null);

/// <summary>
/// A client-facing failure with its HTTP status. Thrown inside the request flow and turned into
/// an OpenAI-shaped response by <see cref="OpenAiErrors"/>; never carries a stack trace outward.
/// </summary>
public sealed class OpenAiException(int status, string message, string type, string? code, string? param = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Code { get; } = code;
    public string? Param { get; } = param;

    /// <summary>Sent as the Retry-After header (seconds) when the client should come back later.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Every problem, when there are several (an invalid policy); the message summarises them.</summary>
    public IReadOnlyList<string>? Errors { get; init; }

    public OpenAiErrorBody ToBody() => new(new OpenAiErrorDetail(Message, Type, Param, Code, Errors));
}

/// <summary>The error catalogue: one factory per failure the gateway reports.</summary>
public static class OpenAiErrors
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Upstream = "upstream_error";
    public const string Server = "server_error";
    public const string Permission = "permission_error";

    public static OpenAiException InvalidJson(string detail) => new(400,
        $"We could not parse the JSON body of your request ({detail}). The request body must be a JSON object.",
        InvalidRequest, "invalid_json");

    public static OpenAiException MissingParameter(string param) => new(400,
        $"Missing required parameter: '{param}'.", InvalidRequest, "missing_required_parameter", param);

    public static OpenAiException InvalidParameter(string param, string message) => new(400,
        message, InvalidRequest, "invalid_parameter", param);

    private const string NoKeysYet = " This gateway has no client keys yet: configure one under Auth:Keys "
                                     + "(for example Auth__Keys__0__Key=<secret> and Auth__Keys__0__Team=<team>).";

    public static OpenAiException MissingKey(bool anyKeysConfigured = true) => new(401,
        "You didn't provide an API key. Send your gateway client key as 'Authorization: Bearer <key>'."
        + (anyKeysConfigured ? "" : NoKeysYet),
        Authentication, "missing_api_key");

    public static OpenAiException InvalidKey(bool anyKeysConfigured) => new(401,
        anyKeysConfigured
            ? "Incorrect API key provided. Use a client key issued by this gateway's administrator."
            : "Incorrect API key provided." + NoKeysYet,
        Authentication, "invalid_api_key");

    public static OpenAiException AdminDisabled() => new(401,
        "The admin API is disabled because no admin key is configured. Set Auth:AdminKey (Auth__AdminKey).",
        Authentication, "admin_disabled");

    public static OpenAiException InvalidAdminKey() => new(401,
        "Incorrect admin key provided.", Authentication, "invalid_api_key");

    public static OpenAiException AdminScopeMissing(string key, string scope) => new(403,
        $"The admin key '{key}' lacks the '{scope}' scope this endpoint needs. Ask an admin for a key with it (scopes: spend:read, policy:write, keys:write, knowledge:write, admin).",
        Permission, "insufficient_scope");

    public static OpenAiException SharedStateUnavailable() => new(503,
        "The gateway cannot reach the store its replicas share for budgets and rate limits (Redis), and is configured to refuse requests until it is back (Redis:FailOpen=false).",
        Server, "shared_state_unavailable") { RetryAfterSeconds = 1 };

    public static OpenAiException InvalidMetricsKey() => new(401,
        "Incorrect metrics key provided. /metrics needs Auth:MetricsKey (or the admin key) as 'Authorization: Bearer <key>'.",
        Authentication, "invalid_api_key");

    public static OpenAiException ModelNotFound(string model) => new(404,
        $"The model '{model}' does not exist or you do not have access to it. GET /v1/models lists the models this gateway serves.",
        InvalidRequest, "model_not_found", "model");

    public static OpenAiException EmbeddingsNeedAModel(IEnumerable<string> models) => new(400,
        "Embeddings need a concrete model: 'auto' is not routed, since vectors are only comparable within one model. "
        + $"Name one of the models this gateway serves: {string.Join(", ", models.Order(StringComparer.Ordinal))}.",
        InvalidRequest, "model_required", "model");

    public static OpenAiException ModelNotAllowedForKey(string model, string key) => new(403,
        $"The key '{key}' may not use model '{model}': an admin limited it to a list of models (see GET /v1/models).",
        Permission, "model_not_allowed", "model");

    public static OpenAiException ModelNotAllowed(string model, string team) => new(403,
        $"Team '{team}' may not pin '{model}': the routing policy does not list the team under pinnable_by. Use model \"auto\" or ask an admin.",
        Permission, "model_not_allowed", "model");

    /// <summary>
    /// 429 for a <c>reject</c> budget: <paramref name="spent"/> is what the ledger recorded, <paramref name="inFlight"/> what
    /// requests still running hold against the same limit. Amounts keep every significant digit a small limit needs.
    /// </summary>
    /// <param name="holder">Whose budget: <c>Team 'research'</c> or <c>Key 'batch-job'</c>.</param>
    public static OpenAiException BudgetExceeded(string holder, string period, decimal spent, decimal inFlight, decimal limit) => new(429,
        $"{holder} has used its {period} budget of ${Usd(limit)}: ${Usd(spent)} spent"
        + (inFlight > 0 ? $" and ${Usd(inFlight)} held by requests in flight" : "")
        + "; requests are refused until it resets.",
        "insufficient_quota", "budget_exceeded");

    /// <summary>USD with two decimals, or as many more (up to eight) as a small amount needs: $0.10, $0.0001, $12.50.</summary>
    public static string Usd(decimal amount) => amount.ToString("0.00######", System.Globalization.CultureInfo.InvariantCulture);

    public static OpenAiException RouteCannotServe(string model, string route, string why) => new(400,
        $"The model '{model}' cannot serve this request: route '{route}' {why}. Use 'auto' or a hosted model.",
        InvalidRequest, "model_cannot_serve_request", "model");

    public static OpenAiException PreviousResponseUnreachable(string route, string? upstream) => new(400,
        $"The previous response was created on route '{route}' (upstream '{upstream}'), which this gateway no longer serves; its state cannot be reached. Start a new response without 'previous_response_id'.",
        InvalidRequest, "previous_response_unreachable", "previous_response_id");

    public static OpenAiException ResponseNotFound(string id) => new(404,
        $"No response with id '{id}' found: this gateway did not serve it to your team, or its record has expired.",
        InvalidRequest, "response_not_found", "response_id");

    public static OpenAiException NoServableRoute(string route, string reason) => new(503,
        $"Route '{route}' cannot be served ({reason}) and has no servable fallback.", Server, "route_unavailable");

    public static OpenAiException InvalidPolicy(IReadOnlyList<string> errors) => new(400,
        $"The policy is invalid ({errors.Count} error{(errors.Count == 1 ? "" : "s")}): {string.Join("; ", errors.Take(3))}{(errors.Count > 3 ? "; …" : "")}. Nothing was applied.",
        InvalidRequest, "invalid_policy") { Errors = errors };

    public static OpenAiException PolicyNotWritable(string message) => new(500, message, Server, "policy_not_writable");

    public static OpenAiException PolicyVersionNotFound(string version) => new(404,
        $"No applied policy has version '{version}'. GET /admin/policy/history lists them.", InvalidRequest, "policy_version_not_found", "version");

    public static OpenAiException LocalModelBusy(string model, TimeSpan waited) => new(503,
        $"The local model '{model}' is busy (every slot stayed taken for {waited.TotalSeconds:0.#} s). Retry shortly.",
        Server, "model_overloaded") { RetryAfterSeconds = Math.Max(1, (int)Math.Ceiling(waited.TotalSeconds)) };

    public static OpenAiException ContextLengthExceeded(string model, int promptTokens, int contextSize) => new(400,
        $"This model's maximum context length is {contextSize} tokens, but the messages take {promptTokens} tokens. Shorten them.",
        InvalidRequest, "context_length_exceeded", "messages");

    public static OpenAiException RequestTooLarge(long limit) => new(413,
        $"The request body exceeds the gateway's limit of {limit} bytes (OpenAi:MaxRequestBodyBytes).",
        InvalidRequest, "request_too_large");

    public static OpenAiException UnknownUrl(string method, string path) => new(404,
        $"Invalid URL ({method} {path}).", InvalidRequest, "unknown_url");

    public static OpenAiException MethodNotAllowed(string method, string path) => new(405,
        $"Method not allowed ({method} {path}).", InvalidRequest, "method_not_allowed");

    public static OpenAiException UpstreamUnreachable(string upstream) => new(502,
        $"The upstream provider '{upstream}' could not be reached.", Upstream, "upstream_unreachable");

    public static OpenAiException UpstreamTimeout(string upstream) => new(504,
        $"The upstream provider '{upstream}' did not answer in time.", Upstream, "upstream_timeout");

    public static OpenAiException UpstreamCircuitOpen(string upstream, TimeSpan? retryAfter) => new(503,
        $"The upstream provider '{upstream}' is failing and is not being tried for a while (circuit open); try again shortly.",
        Upstream, "upstream_circuit_open")
    {
        RetryAfterSeconds = retryAfter is { } wait ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : null,
    };

    public static OpenAiException UpstreamFailed(string upstream) => new(502,
        $"The upstream provider '{upstream}' failed while answering.", Upstream, "upstream_error");

    public static OpenAiException RouteUnavailable(string route, string kind) => new(503,
        $"Route '{route}' of kind '{kind}' cannot be served by this gateway build.", Server, "route_unavailable");

    public static OpenAiException Internal(string requestId) => new(500,
        $"The gateway hit an unexpected error. Quote request id {requestId} when reporting it.", Server, "internal_error");
}
