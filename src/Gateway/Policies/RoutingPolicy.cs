using System.Collections.Frozen;

namespace Gateway.Policies;

/// <summary>
/// One immutable, validated policy snapshot. Routing reads <see cref="IPolicyProvider.Current"/> once
/// per request and never mutates it; a reload publishes a new instance.
/// </summary>
public sealed class RoutingPolicy
{
    public RoutingPolicy(
        string version,
        DateTimeOffset loadedAt,
        string document,
        IReadOnlyList<PolicyRoute> routes,
        string defaultRoute,
        string? referenceRoute,
        PolicyObjective? objective = null,
        IReadOnlyList<PolicyRule>? rules = null,
        IReadOnlyDictionary<string, TeamBudget>? budgets = null,
        IReadOnlyDictionary<string, TeamRateLimit>? rateLimits = null)
    {
        RateLimits = (rateLimits ?? new Dictionary<string, TeamRateLimit>()).ToFrozenDictionary(StringComparer.Ordinal);
        Version = version;
        LoadedAt = loadedAt;
        Document = document;
        Routes = routes;
        RoutesByName = routes.ToFrozenDictionary(r => r.Name, StringComparer.Ordinal);
        DefaultRoute = RoutesByName[defaultRoute];
        ReferenceRoute = referenceRoute is null ? null : RoutesByName[referenceRoute];
        Objective = objective;
        Rules = rules ?? [];
        UsesRetrievalRelevance = Rules.Any(r => r.RetrievalRelevance is not null);
        Budgets = (budgets ?? new Dictionary<string, TeamBudget>()).ToFrozenDictionary(StringComparer.Ordinal);

        // First route listing a concrete model wins, in document order.
        var byModel = new Dictionary<string, PolicyRoute>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            byModel.TryAdd(route.Model, route);
            foreach (var model in route.PinnableModels.Keys)
            {
                byModel.TryAdd(model, route);
            }
        }

        RoutesByModel = byModel.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>A short content hash of the document: equal documents have equal versions.</summary>
    public string Version { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>The YAML text this snapshot was loaded from, as the admin wrote it (comments included).</summary>
    public string Document { get; }

    public IReadOnlyList<PolicyRoute> Routes { get; }

    public FrozenDictionary<string, PolicyRoute> RoutesByName { get; }

    /// <summary>Concrete model names a client may pin, with the route that serves each.</summary>
    public FrozenDictionary<string, PolicyRoute> RoutesByModel { get; }

    /// <summary>The route for <c>auto</c> when no objective is set, and the last resort when no candidate is left.</summary>
    public PolicyRoute DefaultRoute { get; }

    /// <summary>The hosted route whose prices define what a request would have cost without routing.</summary>
    public PolicyRoute? ReferenceRoute { get; }

    /// <summary>How <c>auto</c> requests choose among routes; null: they take <see cref="DefaultRoute"/>.</summary>
    public PolicyObjective? Objective { get; }

    /// <summary>Evaluated in order before the objective.</summary>
    public IReadOnlyList<PolicyRule> Rules { get; }

    /// <summary>Whether any rule matches on retrieval relevance (only then is it computed per request).</summary>
    public bool UsesRetrievalRelevance { get; }

    public FrozenDictionary<string, TeamBudget> Budgets { get; }

    /// <summary>Requests and tokens per minute per team (<c>rate_limits</c>), shared by all of the team's keys.</summary>
    public FrozenDictionary<string, TeamRateLimit> RateLimits { get; }
}

/// <summary>A route: one strategy with its target, prices and expected quality.</summary>
public sealed record PolicyRoute
{
    public required string Name { get; init; }

    /// <summary>The strategy: <see cref="RouteKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>For hosted routes (and hosted adapters): the upstream name under <c>Upstreams:</c>.</summary>
    public string? Upstream { get; init; }

    /// <summary>What the route runs on: the upstream (hosted), local model (local) or base model (adapter).</summary>
    public string? Target { get; init; }

    /// <summary>For adapter routes: the adapter's name.</summary>
    public string? Adapter { get; init; }

    /// <summary>For in-process adapter routes: the LoRA GGUF file, and how strongly it applies (1 = as trained).</summary>
    public string? AdapterFile { get; init; }

    public float AdapterScale { get; init; } = 1f;

    /// <summary>For local routes: the knowledge collection whose passages ground the answer.</summary>
    public string? Knowledge { get; init; }

    /// <summary>The model sent to the target when the client asks for <c>auto</c> or the route's name.</summary>
    public required string Model { get; init; }

    public required RoutePrice Price { get; init; }

    /// <summary>Expected quality (0–1) per prompt category; <see cref="DefaultQuality"/> for the others.</summary>
    public FrozenDictionary<string, double> Quality { get; init; } = FrozenDictionary<string, double>.Empty;

    public double DefaultQuality { get; init; }

    /// <summary>Quality per category in <see cref="Classification.PromptCategories.All"/> order, resolved once at load.</summary>
    public IReadOnlyList<double> QualityVector { get; init; } = [];

    /// <summary>Quality assumed when a prompt is not classified: <see cref="DefaultQuality"/> if given, else the mean over categories.</summary>
    public double UnclassifiedQuality { get; init; }

    /// <summary>Informational (<c>fast</c>, <c>standard</c>, <c>slow</c>); rules and dashboards may use it.</summary>
    public string? LatencyClass { get; init; }

    /// <summary>Teams allowed to pin this route (by its name or one of its models); null: every team.</summary>
    public FrozenSet<string>? PinnableBy { get; init; }

    /// <summary>Further concrete models clients may pin on this route, each with its own price.</summary>
    public FrozenDictionary<string, RoutePrice> PinnableModels { get; init; } = FrozenDictionary<string, RoutePrice>.Empty;

    /// <summary>Route names tried in order when this route fails before answering.</summary>
    public IReadOnlyList<string> Fallbacks { get; init; } = [];

    /// <summary>Whether this gateway can serve the route now (its target is configured).</summary>
    public bool Available { get; init; } = true;

    /// <summary>Why <see cref="Available"/> is false, for explain and logs.</summary>
    public string? UnavailableReason { get; init; }

    /// <summary>Settings of a plug-in route kind (<c>options:</c> in the policy), as written.</summary>
    public FrozenDictionary<string, string?> Options { get; init; } = FrozenDictionary<string, string?>.Empty;

    /// <summary>Served in this process (a local model, or a LoRA adapter on one) rather than forwarded to a provider (see <see cref="IRouteKind.InProcess"/>).</summary>
    public bool InProcess { get; init; }

    public RoutePrice PriceFor(string model) =>
        string.Equals(model, Model, StringComparison.Ordinal) ? Price : PinnableModels.GetValueOrDefault(model, Price);

    public double QualityFor(string category) => Quality.GetValueOrDefault(category, DefaultQuality);

    public bool CanBePinnedBy(string team) => PinnableBy is null || PinnableBy.Contains(team);
}

/// <summary>USD per one million tokens.</summary>
public sealed record RoutePrice(decimal InputPerMTok, decimal OutputPerMTok, decimal? CachedInputPerMTok = null);

/// <summary>The names of the shipped route kinds (each described by its <see cref="IRouteKind"/>).</summary>
public static class RouteKinds
{
    public const string Hosted = "hosted";
    public const string Local = "local";
    public const string Adapter = "adapter";
}

public enum ObjectiveType
{
    /// <summary>The cheapest candidate whose expected quality meets the floor.</summary>
    MinCost,

    /// <summary>The best expected quality whose estimated cost fits the cap.</summary>
    MaxQuality,
}

/// <summary>How <c>auto</c> chooses among candidate routes.</summary>
/// <param name="ExpectedOutputTokens">
/// Completion tokens assumed for cost estimates when the request sets no <c>max_tokens</c>. Unset: what recent traffic
/// used (the 90th percentile), or <see cref="DefaultExpectedOutputTokens"/> until there is enough of it.
/// </param>
public sealed record PolicyObjective(ObjectiveType Type, double QualityFloor, decimal? CostCapUsd, int? ExpectedOutputTokens)
{
    public const int DefaultExpectedOutputTokens = 500;

    public static string Name(ObjectiveType type) => type == ObjectiveType.MinCost ? "min_cost" : "max_quality";
}

/// <summary>An inclusive range; either end may be open.</summary>
public readonly record struct ValueRange(double Min, double Max)
{
    public bool Contains(double value) => value >= Min && value <= Max;

    public override string ToString() =>
        double.IsNegativeInfinity(Min) ? $"<= {Max:G4}" : double.IsPositiveInfinity(Max) ? $">= {Min:G4}" : $"{Min:G4}..{Max:G4}";
}

/// <summary>
/// A rule: conditions (all must hold; an absent condition always holds) and actions. Rules run in
/// document order before the objective; the first one that pins a route decides.
/// </summary>
public sealed record PolicyRule
{
    public required string Name { get; init; }

    /// <summary>Position in the document (0-based), for paths in explanations.</summary>
    public required int Index { get; init; }

    public FrozenSet<string>? Categories { get; init; }
    public ValueRange? NeedsStrong { get; init; }
    public FrozenSet<string>? Teams { get; init; }
    public FrozenSet<string>? Keys { get; init; }
    public FrozenSet<string>? Models { get; init; }
    public ValueRange? PromptTokens { get; init; }
    public bool? Tools { get; init; }
    public bool? Stream { get; init; }
    public ValueRange? RetrievalRelevance { get; init; }
    public IReadOnlyList<KeyValuePair<string, FrozenSet<string>>> Headers { get; init; } = [];

    /// <summary>Pin this route (ends rule evaluation).</summary>
    public string? Route { get; init; }

    /// <summary>Remove these routes from the candidates.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    public double? QualityFloor { get; init; }
    public decimal? CostCapUsd { get; init; }
}

public enum BudgetAction
{
    /// <summary>Refuse requests with 429 until the period ends.</summary>
    Reject,

    /// <summary>Serve on the downgrade route (or the cheapest available) until the period ends.</summary>
    Downgrade,
}

/// <summary>A team's spend limits in USD; a null limit is no limit.</summary>
/// <summary>A team's requests and tokens per minute, over all its keys.</summary>
public sealed record TeamRateLimit(string Team, long? Rpm, long? Tpm);

/// <summary>
/// Spend limits in USD (a null limit is no limit): a team's, from the policy, or one key's, from the key store, whose
/// <see cref="Team"/> is <c>key:</c> + the key's name (team names cannot contain ':', so the two never meet).
/// </summary>
public sealed record TeamBudget(string Team, decimal? DailyUsd, decimal? MonthlyUsd, BudgetAction OnExceed, string? DowngradeTo)
{
    public const string KeyPrefix = "key:";

    /// <summary>The budget of the key named <paramref name="keyName"/>.</summary>
    public static TeamBudget ForKey(string keyName, decimal? dailyUsd, decimal? monthlyUsd, BudgetAction onExceed, string? downgradeTo) =>
        new(KeyPrefix + keyName, dailyUsd, monthlyUsd, onExceed, downgradeTo);

    /// <summary>The counters this budget reads: the team's, or <c>key:</c> + the key's name.</summary>
    public static string KeySubject(string keyName) => KeyPrefix + keyName;

    public bool IsKeyBudget => Team.StartsWith(KeyPrefix, StringComparison.Ordinal);

    /// <summary>Whose budget it is, as messages say it: <c>Team 'research'</c>, <c>Key 'batch-job'</c>.</summary>
    public string Holder => IsKeyBudget ? $"Key '{Team[KeyPrefix.Length..]}'" : $"Team '{Team}'";

    /// <summary>Shares of a limit at which an alert fires once per period (<c>alert_at</c>; 50%, 80% and 100% unless the policy says).</summary>
    public IReadOnlyList<decimal> AlertAt { get; init; } = DefaultAlertAt;

    public static readonly IReadOnlyList<decimal> DefaultAlertAt = [0.5m, 0.8m, 1m];
}
