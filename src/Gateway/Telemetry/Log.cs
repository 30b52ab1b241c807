using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Telemetry;

/// <summary>
/// Every log event of the gateway, source-generated with stable event ids. Prompts, completions and
/// keys are never logged.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "Gateway listening; policy {PolicyVersion} with routes {Routes}")]
    public static partial void Started(ILogger logger, string policyVersion, string routes);

    [LoggerMessage(1001, LogLevel.Warning, "No client keys are configured: every /v1 request will get 401. Add one with Auth__Keys__0__Key=<secret of 16+ chars> and Auth__Keys__0__Team=<team> (or Auth:Keys in appsettings.json).")]
    public static partial void NoClientKeys(ILogger logger);

    [LoggerMessage(1002, LogLevel.Information, "No admin key is configured: /admin is disabled. Set Auth__AdminKey to enable it.")]
    public static partial void NoAdminKey(ILogger logger);

    [LoggerMessage(1003, LogLevel.Warning, "Upstream '{Upstream}' ({BaseUrl}) has no API key: requests are sent without Authorization. Set Upstreams__{Upstream}__ApiKey{Hint}.")]
    public static partial void UpstreamWithoutKey(ILogger logger, string upstream, string baseUrl, string hint);

    [LoggerMessage(1004, LogLevel.Information, "No local model is configured: local and adapter routes are unavailable. Set LocalModels__<name>__Path to a GGUF file to add one.")]
    public static partial void NoLocalModel(ILogger logger);

    [LoggerMessage(1005, LogLevel.Information, "{ClientKeys} client key(s) configured for team(s) {Teams}")]
    public static partial void ClientKeys(ILogger logger, int clientKeys, string teams);

    [LoggerMessage(1100, LogLevel.Information, "Loaded routing policy {Path} version {Version} with {RouteCount} route(s)")]
    public static partial void PolicyLoaded(ILogger logger, string path, string version, int routeCount);

    [LoggerMessage(1101, LogLevel.Information, "Policy {Path} changed ({Source}): version {Previous} replaced by {Version}")]
    public static partial void PolicyApplied(ILogger logger, string path, string previous, string version, string source);

    [LoggerMessage(1102, LogLevel.Error, "Policy {Path} changed but is invalid; version {Current} keeps serving. Errors:\n  {Errors}")]
    public static partial void PolicyReloadRejected(ILogger logger, string path, string current, string errors);

    [LoggerMessage(1103, LogLevel.Warning, "Policy {Version}: {Warning}")]
    public static partial void PolicyWarning(ILogger logger, string version, string warning);

    [LoggerMessage(1200, LogLevel.Information, "Loaded classifier {Path} version {Version} with categories {Labels}")]
    public static partial void ClassifierLoaded(ILogger logger, string path, string version, string labels);

    [LoggerMessage(1201, LogLevel.Information, "Classifier {Path} changed: version {Previous} replaced by {Version}")]
    public static partial void ClassifierReloaded(ILogger logger, string path, string previous, string version);

    [LoggerMessage(1202, LogLevel.Error, "Classifier {Path} changed but cannot be used, version {Current} keeps serving: {Reason}")]
    public static partial void ClassifierReloadFailed(ILogger logger, string path, string reason, string current);

    [LoggerMessage(1400, LogLevel.Information, "Loaded local model {Name} from {Path} ({Vocab} tokens in vocabulary) in {Milliseconds} ms")]
    public static partial void LocalModelLoaded(ILogger logger, string name, string path, int vocab, int milliseconds);

    [LoggerMessage(1401, LogLevel.Error, "Local model {Name} is unavailable: {Reason}. Its routes fall back or answer 503; the gateway keeps serving.")]
    public static partial void LocalModelFailed(ILogger logger, string name, string reason);

    [LoggerMessage(1402, LogLevel.Warning, "Local model {Name} is saturated ({Slots} slot(s) busy past the queue timeout)")]
    public static partial void LocalModelSaturated(ILogger logger, string name, int slots);

    [LoggerMessage(1403, LogLevel.Information, "Loaded LoRA adapter {Path} on {Model} in {Milliseconds} ms")]
    public static partial void AdapterLoaded(ILogger logger, string path, string model, int milliseconds);

    [LoggerMessage(1404, LogLevel.Information, "Unloaded LoRA adapter {Path}: the policy no longer routes to it")]
    public static partial void AdapterUnloaded(ILogger logger, string path);

    [LoggerMessage(1300, LogLevel.Information, "Spend ledger ready; budget counters rebuilt for {Teams} team(s)")]
    public static partial void LedgerReady(ILogger logger, int teams);

    [LoggerMessage(1301, LogLevel.Warning, "Spend ledger write of {Records} record(s) failed (attempt {Attempt}); records stay buffered and are retried: {Reason}")]
    public static partial void LedgerWriteFailed(ILogger logger, int records, int attempt, string reason);

    [LoggerMessage(1302, LogLevel.Error, "Spend ledger buffer is full ({Capacity} records): requests wait until the store catches up")]
    public static partial void LedgerBufferFull(ILogger logger, int capacity);

    [LoggerMessage(1303, LogLevel.Error, "Spend ledger store unavailable at shutdown: {Records} record(s) written to {Path}; they are replayed at the next start")]
    public static partial void LedgerSpilled(ILogger logger, int records, string path);

    [LoggerMessage(1304, LogLevel.Information, "Replayed {Records} spilled ledger record(s) from {Path}")]
    public static partial void LedgerReplayed(ILogger logger, int records, string path);

    [LoggerMessage(1310, LogLevel.Warning, "Team {Team} has used {Spent} USD of its {Period} budget of {Limit} USD (80% soft threshold)")]
    public static partial void BudgetSoftThreshold(ILogger logger, string team, string period, decimal spent, decimal limit);

    [LoggerMessage(2000, LogLevel.Warning, "Upstream {Upstream} failed: {Error} ({ExceptionType}: {ExceptionMessage})")]
    public static partial void UpstreamFailed(ILogger logger, string upstream, ForwarderError error, string? exceptionType, string? exceptionMessage);

    [LoggerMessage(2001, LogLevel.Debug, "Client went away during a request to upstream {Upstream} ({Error})")]
    public static partial void ClientDisconnected(ILogger logger, string upstream, ForwarderError error);

    [LoggerMessage(2002, LogLevel.Warning, "Route {Route} failed with status {Status}; falling back to {NextRoute}")]
    public static partial void FallingBack(ILogger logger, string route, int status, string nextRoute);

    [LoggerMessage(2003, LogLevel.Information, "Retrying upstream {Upstream} after {Reason} (retry {Retry}, in {DelayMs} ms)")]
    public static partial void UpstreamRetry(ILogger logger, string upstream, string reason, int retry, long delayMs);

    [LoggerMessage(2004, LogLevel.Warning, "Circuit for upstream {Upstream}, deployment {Deployment}, is {State}")]
    public static partial void UpstreamCircuit(ILogger logger, string upstream, string deployment, string state);

    [LoggerMessage(2100, LogLevel.Error, "Unhandled error in request {RequestId}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string requestId);

    [LoggerMessage(2200, LogLevel.Warning, "Could not refresh client keys from the database ({Reason}); serving with the keys already loaded")]
    public static partial void KeyRefreshFailed(ILogger logger, string reason);

    [LoggerMessage(2201, LogLevel.Information, "Client key {KeyId} ({Name}, team {Team}): {Action} by {Actor}")]
    public static partial void KeyChanged(ILogger logger, string keyId, string name, string team, string action, string actor);

    [LoggerMessage(2202, LogLevel.Warning, "Redis failed during {Operation} ({Error}); {Fallback}")]
    private static partial void SharedStateFailed(ILogger logger, string operation, string error, string fallback);

    public static void SharedStateFailed(ILogger logger, string operation, string error, bool failOpen) =>
        SharedStateFailed(logger, operation, error, failOpen ? "this replica's own counters decide (Redis:FailOpen)" : "refusing with 503 (Redis:FailOpen=false)");

    [LoggerMessage(2203, LogLevel.Warning, "Budget alert: team {Team} crossed {Threshold:P0} of its {Period} budget (${Spent} of ${Limit})")]
    public static partial void BudgetAlert(ILogger logger, string team, string period, decimal threshold, decimal spent, decimal limit);

    [LoggerMessage(2204, LogLevel.Warning, "Budget alert for team {Team} ({Period}, {Threshold:P0}) was not delivered: {Reason}")]
    public static partial void BudgetAlertFailed(ILogger logger, string team, string period, decimal threshold, string reason);

    [LoggerMessage(2300, LogLevel.Debug, "Large request bodies are over: memory reclaimed (managed heap {BeforeMiB} MiB -> {AfterMiB} MiB)")]
    public static partial void MemoryReclaimed(ILogger logger, long beforeMiB, long afterMiB);
}
