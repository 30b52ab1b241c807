using FluentValidation;
using FluentValidation.Results;
using Gateway.Classification;

namespace Gateway.Policies;

/// <summary>
/// Validates a policy document, collecting every error with its path in the document
/// (<c>routes.local-rag.price.input_per_mtok: must be >= 0</c>) instead of stopping at the first:
/// unknown references, fallback cycles, missing prices and quality, rules that can never match.
/// </summary>
internal sealed class PolicyValidator(IPolicyEnvironment environment)
{
    private readonly Dictionary<string, IRouteKind> _kinds = environment.Kinds.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public const string DefaultQualityKey = "default";

    public static readonly IReadOnlyList<string> LatencyClasses = ["fast", "standard", "slow"];

    private static readonly PriceValidator Price = new();
    private static readonly ObjectiveValidator Objective = new();
    private static readonly BudgetValidator Budget = new();

    public IReadOnlyList<string> Validate(PolicyDocument document)
    {
        var errors = new List<string>();
        var routes = document.Routes ?? [];
        if (routes.Count == 0)
        {
            errors.Add("routes: must define at least one route");
        }

        foreach (var (name, route) in routes)
        {
            ValidateRoute($"routes.{name}", route, routes, document.Objective is not null, errors);
        }

        CheckReference("default_route", document.DefaultRoute, routes, required: true, errors);
        CheckReference("reference_route", document.ReferenceRoute, routes, required: false, errors);
        if (document.DefaultRoute is { } defaultName && routes.GetValueOrDefault(defaultName) is { } defaultRoute
            && Availability(defaultRoute) is { } unavailable)
        {
            errors.Add($"default_route: '{defaultName}' cannot be served by this gateway ({unavailable}); the default must always be servable");
        }

        if (document.ReferenceRoute is { } reference && routes.GetValueOrDefault(reference) is { } referenced
            && KindOf(referenced)?.InProcess(referenced) != false)
        {
            errors.Add($"reference_route: '{reference}' must be a hosted route, served by a provider (savings are measured against a hosted model)");
        }

        if (document.Objective is { } objective)
        {
            AddAll(errors, "objective", Objective.Validate(objective));
        }

        ValidateRules(document.Rules ?? [], routes, errors);
        foreach (var (team, budget) in document.Budgets ?? [])
        {
            ValidateBudget($"budgets.{team}", budget, routes, errors);
        }

        foreach (var (team, limit) in document.RateLimits ?? [])
        {
            var path = $"rate_limits.{team}";
            if (limit is null || (limit.Rpm is null && limit.Tpm is null))
            {
                errors.Add($"{path}: give rpm, tpm or both (requests and tokens per minute for the team)");
                continue;
            }

            if (limit.Rpm is not null and not (>= 1 and <= 1_000_000))
            {
                errors.Add($"{path}.rpm: must be between 1 and 1,000,000");
            }

            if (limit.Tpm is not null and not (>= 1 and <= 10_000_000_000))
            {
                errors.Add($"{path}.tpm: must be between 1 and 10,000,000,000");
            }
        }

        CheckFallbackCycles(routes, errors);
        return errors;
    }

    /// <summary>The kind a route names, when this gateway serves it.</summary>
    public IRouteKind? KindOf(RouteDocument route) => route.Kind is { } name ? _kinds.GetValueOrDefault(name) : null;

    /// <summary>Null when this gateway can serve the route now, else why not (see <see cref="IRouteKind.Availability"/>).</summary>
    public string? Availability(RouteDocument route) =>
        KindOf(route) is { } kind ? kind.Availability(route) : $"no {route.Kind} route target in this build";

    private string KindNames => string.Join(", ", _kinds.Keys);

    private void ValidateRoute(string path, RouteDocument? route, Dictionary<string, RouteDocument?> routes, bool objectiveSet, List<string> errors)
    {
        if (route is null)
        {
            errors.Add($"{path}: must be a mapping with kind, model and price");
            return;
        }

        if (string.IsNullOrEmpty(route.Kind))
        {
            errors.Add($"{path}.kind: is required, one of {KindNames}");
        }
        else if (KindOf(route) is { } kind)
        {
            kind.Validate(path, route, errors);
        }
        else
        {
            errors.Add($"{path}.kind: '{route.Kind}' is not one of {KindNames}");
        }

        if (string.IsNullOrWhiteSpace(route.Model))
        {
            errors.Add($"{path}.model: is required");
        }

        if (route.Knowledge is { } knowledge)
        {
            if (KindOf(route) is { } kind && !kind.InProcess(route))
            {
                errors.Add($"{path}.knowledge: only routes served in-process (local models and adapters on them) retrieve from a knowledge collection");
            }
            else if (!Retrieval.KnowledgeCollections.IsValidName(knowledge))
            {
                errors.Add($"{path}.knowledge: '{knowledge}' is not a collection name ({Retrieval.KnowledgeCollections.NameRule})");
            }
        }

        if (route.Price is null)
        {
            errors.Add($"{path}.price: is required (USD per 1M input and output tokens; local routes: an amortised figure; 0 is allowed but must be written)");
        }
        else
        {
            AddAll(errors, $"{path}.price", Price.Validate(route.Price));
        }

        ValidateQuality($"{path}.quality", route.Quality, objectiveSet, errors);

        if (route.LatencyClass is { } latency && !LatencyClasses.Contains(latency))
        {
            errors.Add($"{path}.latency_class: '{latency}' is not one of {string.Join(", ", LatencyClasses)}");
        }

        if (route.PinnableBy?.Any(string.IsNullOrWhiteSpace) == true)
        {
            errors.Add($"{path}.pinnable_by: team names must not be empty");
        }

        foreach (var (model, price) in route.Models ?? [])
        {
            if (price is null)
            {
                errors.Add($"{path}.models.{model}: must give a price for the model");
            }
            else
            {
                AddAll(errors, $"{path}.models.{model}", Price.Validate(price));
            }
        }

        var fallbacks = route.Fallbacks ?? [];
        for (var i = 0; i < fallbacks.Count; i++)
        {
            if (!routes.ContainsKey(fallbacks[i]))
            {
                errors.Add($"{path}.fallbacks[{i}]: unknown route '{fallbacks[i]}'");
            }
        }
    }

    private static void ValidateQuality(string path, Dictionary<string, double?>? quality, bool objectiveSet, List<string> errors)
    {
        foreach (var (category, value) in quality ?? [])
        {
            if (category != DefaultQualityKey && !PromptCategories.All.Contains(category))
            {
                errors.Add($"{path}.{category}: unknown category; use one of {string.Join(", ", PromptCategories.All)} or {DefaultQualityKey}");
            }
            else if (value is not (>= 0 and <= 1))
            {
                errors.Add($"{path}.{category}: must be between 0 and 1");
            }
        }

        if (objectiveSet && (quality is null || (!quality.ContainsKey(DefaultQualityKey) && PromptCategories.All.Any(c => !quality.ContainsKey(c)))))
        {
            errors.Add($"{path}: is required when an objective is set: give '{DefaultQualityKey}' or a value for every category ({string.Join(", ", PromptCategories.All)})");
        }
    }

    private void ValidateRules(List<RuleDocument?> rules, Dictionary<string, RouteDocument?> routes, List<string> errors)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var hasLocalRoute = routes.Values.Any(r => r is { Knowledge: not null } && KindOf(r)?.InProcess(r) == true);
        string? catchAllPin = null;
        for (var i = 0; i < rules.Count; i++)
        {
            var path = $"rules[{i}]";
            var rule = rules[i];
            if (rule is null)
            {
                errors.Add($"{path}: must be a mapping with name, when and then");
                continue;
            }

            if (string.IsNullOrWhiteSpace(rule.Name))
            {
                errors.Add($"{path}.name: is required (it names the rule in explanations and metrics)");
            }
            else if (!names.TryAdd(rule.Name, i))
            {
                errors.Add($"{path}.name: '{rule.Name}' is already used by rules[{names[rule.Name]}]");
            }
            else
            {
                path = $"rules[{i}] ({rule.Name})";
            }

            if (catchAllPin is not null)
            {
                errors.Add($"{path}: can never match: {catchAllPin} has no conditions and pins a route, so no request reaches this rule");
            }

            ValidateConditions($"{path}.when", rule.When, routes, hasLocalRoute, errors);
            ValidateActions($"{path}.then", rule.Then, routes, errors);
            if (IsEmpty(rule.When) && rule.Then?.Route is not null)
            {
                catchAllPin ??= $"rules[{i}] ({rule.Name})";
            }
        }
    }

    private static bool IsEmpty(ConditionDocument? when) =>
        when is null || (when.Category is null && when.NeedsStrong is null && when.Team is null && when.Key is null
                         && when.Model is null && when.PromptTokens is null && when.Tools is null && when.Stream is null
                         && when.RetrievalRelevance is null && when.Headers is null);

    private static void ValidateConditions(string path, ConditionDocument? when, Dictionary<string, RouteDocument?> routes, bool hasLocalRoute, List<string> errors)
    {
        if (when is null)
        {
            return;
        }

        void NonEmpty(string field, List<string>? values)
        {
            if (values is { Count: 0 })
            {
                errors.Add($"{path}.{field}: can never match: the list is empty");
            }
        }

        NonEmpty("category", when.Category);
        NonEmpty("team", when.Team);
        NonEmpty("key", when.Key);
        NonEmpty("model", when.Model);
        foreach (var category in when.Category ?? [])
        {
            if (!PromptCategories.All.Contains(category))
            {
                errors.Add($"{path}.category: unknown category '{category}'; use {string.Join(", ", PromptCategories.All)}");
            }
        }

        if (when.Model is { Count: > 0 } models)
        {
            var known = models.Where(m => m == "auto" || routes.ContainsKey(m) || routes.Values.Any(r => r?.Model == m || r?.Models?.ContainsKey(m) == true)).ToList();
            if (known.Count == 0)
            {
                errors.Add($"{path}.model: can never match: none of {string.Join(", ", models)} is 'auto', a route or a model of this policy (other models get 404 before rules run)");
            }
        }

        CheckRange($"{path}.needs_strong", when.NeedsStrong, 0, 1, errors);
        CheckRange($"{path}.prompt_tokens", when.PromptTokens, 0, double.PositiveInfinity, errors);
        CheckRange($"{path}.retrieval_relevance", when.RetrievalRelevance, 0, 1, errors);
        if (when.RetrievalRelevance is not null && !hasLocalRoute)
        {
            errors.Add($"{path}.retrieval_relevance: can never match: retrieval relevance is measured only for a local route with a knowledge collection, and this policy has none");
        }

        foreach (var (header, values) in when.Headers ?? [])
        {
            if (string.IsNullOrWhiteSpace(header))
            {
                errors.Add($"{path}.headers: header names must not be empty");
            }
            else if (values is not { Count: > 0 })
            {
                errors.Add($"{path}.headers.{header}: can never match: give at least one value");
            }
        }
    }

    private static void CheckRange(string path, RangeDocument? range, double lowest, double highest, List<string> errors)
    {
        if (range is null)
        {
            return;
        }

        if (range.Min is null && range.Max is null)
        {
            errors.Add($"{path}: give min, max or both");
        }

        if (range.Min is { } min && (min < lowest || min > highest))
        {
            errors.Add($"{path}.min: must be between {lowest} and {highest}");
        }

        if (range.Max is { } max && (max < lowest || max > highest))
        {
            errors.Add($"{path}.max: must be between {lowest} and {highest}");
        }

        if (range is { Min: { } from, Max: { } to } && from > to)
        {
            errors.Add($"{path}: can never match: min {from} is above max {to}");
        }
    }

    private static void ValidateActions(string path, ActionDocument? then, Dictionary<string, RouteDocument?> routes, List<string> errors)
    {
        if (then is null || (then.Route is null && then.Exclude is null && then.QualityFloor is null && then.CostCapUsd is null))
        {
            errors.Add($"{path}: give at least one action: route, exclude, quality_floor or cost_cap_usd");
            return;
        }

        if (then.Route is { } route && !routes.ContainsKey(route))
        {
            errors.Add($"{path}.route: unknown route '{route}'");
        }

        var exclude = then.Exclude ?? [];
        for (var i = 0; i < exclude.Count; i++)
        {
            if (!routes.ContainsKey(exclude[i]))
            {
                errors.Add($"{path}.exclude[{i}]: unknown route '{exclude[i]}'");
            }
        }

        if (then.Route is { } pinned && exclude.Contains(pinned))
        {
            errors.Add($"{path}: pins route '{pinned}' and excludes it");
        }

        if (routes.Count > 0 && exclude.Count > 0 && routes.Keys.All(exclude.Contains))
        {
            errors.Add($"{path}.exclude: excludes every route");
        }

        if (then.QualityFloor is { } floor && floor is not (>= 0 and <= 1))
        {
            errors.Add($"{path}.quality_floor: must be between 0 and 1");
        }

        if (then.CostCapUsd is { } cap && cap <= 0)
        {
            errors.Add($"{path}.cost_cap_usd: must be > 0");
        }
    }

    private static void ValidateBudget(string path, BudgetDocument? budget, Dictionary<string, RouteDocument?> routes, List<string> errors)
    {
        if (budget is null)
        {
            errors.Add($"{path}: must give daily_usd and/or monthly_usd and on_exceed");
            return;
        }

        AddAll(errors, path, Budget.Validate(budget));
        if (budget.DowngradeTo is { } target && !routes.ContainsKey(target))
        {
            errors.Add($"{path}.downgrade_to: unknown route '{target}'");
        }
    }

    private static void CheckReference(string path, string? name, Dictionary<string, RouteDocument?> routes, bool required, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            if (required)
            {
                errors.Add($"{path}: is required (the route used for model \"auto\" when nothing else decides)");
            }
        }
        else if (!routes.ContainsKey(name))
        {
            errors.Add($"{path}: unknown route '{name}'");
        }
    }

    private static void CheckFallbackCycles(Dictionary<string, RouteDocument?> routes, List<string> errors)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var name in routes.Keys)
        {
            Visit(name);
        }

        void Visit(string name)
        {
            var onPath = path.IndexOf(name);
            if (onPath >= 0)
            {
                errors.Add($"routes.{name}.fallbacks: cycle {string.Join(" -> ", path[onPath..])} -> {name}");
                return;
            }

            if (!done.Add(name))
            {
                return;
            }

            path.Add(name);
            foreach (var next in routes.GetValueOrDefault(name)?.Fallbacks ?? [])
            {
                if (routes.ContainsKey(next))
                {
                    Visit(next);
                }
            }

            path.RemoveAt(path.Count - 1);
        }
    }

    private static void AddAll(List<string> errors, string path, ValidationResult result)
    {
        foreach (var error in result.Errors)
        {
            errors.Add(string.IsNullOrEmpty(error.PropertyName) ? $"{path}: {error.ErrorMessage}" : $"{path}.{error.PropertyName}: {error.ErrorMessage}");
        }
    }

    private sealed class PriceValidator : AbstractValidator<PriceDocument>
    {
        public PriceValidator()
        {
            RuleFor(p => p.InputPerMtok).NotNull().WithMessage("is required").GreaterThanOrEqualTo(0).WithMessage("must be >= 0")
                .OverridePropertyName("input_per_mtok");
            RuleFor(p => p.OutputPerMtok).NotNull().WithMessage("is required").GreaterThanOrEqualTo(0).WithMessage("must be >= 0")
                .OverridePropertyName("output_per_mtok");
            RuleFor(p => p.CachedInputPerMtok).GreaterThanOrEqualTo(0).WithMessage("must be >= 0")
                .OverridePropertyName("cached_input_per_mtok");
        }
    }

    private sealed class ObjectiveValidator : AbstractValidator<ObjectiveDocument>
    {
        public ObjectiveValidator()
        {
            RuleFor(o => o.Type).NotNull().WithMessage("is required: min_cost or max_quality")
                .Must(t => t is null or "min_cost" or "max_quality").WithMessage("must be min_cost or max_quality")
                .OverridePropertyName("type");
            RuleFor(o => o.QualityFloor).InclusiveBetween(0, 1).WithMessage("must be between 0 and 1")
                .OverridePropertyName("quality_floor");
            RuleFor(o => o.QualityFloor).NotNull().When(o => o.Type == "min_cost").WithMessage("is required for min_cost (the quality a route must reach)")
                .OverridePropertyName("quality_floor");
            RuleFor(o => o.CostCapUsd).GreaterThan(0).WithMessage("must be > 0")
                .OverridePropertyName("cost_cap_usd");
            RuleFor(o => o.CostCapUsd).NotNull().When(o => o.Type == "max_quality").WithMessage("is required for max_quality (the most a request may cost)")
                .OverridePropertyName("cost_cap_usd");
            RuleFor(o => o.ExpectedOutputTokens).GreaterThan(0).WithMessage("must be > 0")
                .OverridePropertyName("expected_output_tokens");
        }
    }

    private sealed class BudgetValidator : AbstractValidator<BudgetDocument>
    {
        public BudgetValidator()
        {
            RuleFor(b => b).Must(b => b.DailyUsd is not null || b.MonthlyUsd is not null)
                .WithMessage("give daily_usd, monthly_usd or both").OverridePropertyName("");
            RuleFor(b => b.DailyUsd).GreaterThanOrEqualTo(0).WithMessage("must be >= 0").OverridePropertyName("daily_usd");
            RuleFor(b => b.MonthlyUsd).GreaterThanOrEqualTo(0).WithMessage("must be >= 0").OverridePropertyName("monthly_usd");
            RuleFor(b => b.OnExceed).NotNull().WithMessage("is required: reject or downgrade")
                .Must(a => a is null or "reject" or "downgrade").WithMessage("must be reject or downgrade")
                .OverridePropertyName("on_exceed");
            RuleFor(b => b.DowngradeTo).Null().When(b => b.OnExceed == "reject")
                .WithMessage("only applies with on_exceed: downgrade").OverridePropertyName("downgrade_to");
            RuleFor(b => b.AlertAt).Must(a => a!.Count <= 10 && a.All(t => t is > 0 and <= 2))
                .When(b => b.AlertAt is not null)
                .WithMessage("must list at most 10 shares of the limit, each above 0 and at most 2 (0.8 = 80%)").OverridePropertyName("alert_at");
        }
    }
}
