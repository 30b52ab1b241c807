using System.Collections.Frozen;
using System.Security.Cryptography;
using Gateway.Classification;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Gateway.Policies;

/// <summary>Parses and validates a policy document into a <see cref="RoutingPolicy"/>.</summary>
public sealed class PolicyLoader(IPolicyEnvironment environment, TimeProvider timeProvider)
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    private readonly PolicyValidator _validator = new(environment);

    /// <summary>Loads <paramref name="yaml"/>; on failure the result lists every error and no policy.</summary>
    public PolicyLoadResult Load(string yaml)
    {
        PolicyDocument? document;
        try
        {
            document = Deserializer.Deserialize<PolicyDocument?>(yaml);
        }
        catch (YamlException ex)
        {
            var inner = ex.InnerException?.Message ?? ex.Message;
            return PolicyLoadResult.Failed($"line {ex.Start.Line}, column {ex.Start.Column}: {inner}");
        }
        catch (ArgumentException ex)
        {
            // YamlDotNet's scanner decodes "\udc00\ud800" with char.ConvertToUtf32, which throws instead of reporting.
            return PolicyLoadResult.Failed($"an escape sequence is not valid text ({ex.Message.Split(" (Parameter", 2)[0]})");
        }

        if (document is null)
        {
            return PolicyLoadResult.Failed("the document is empty");
        }

        var errors = _validator.Validate(document);
        if (errors.Count > 0)
        {
            return new PolicyLoadResult(null, errors);
        }

        var routes = document.Routes!.Select(pair => ToRoute(pair.Key, pair.Value!)).ToList();
        var warnings = routes.Where(r => !r.Available)
            .Select(r => $"routes.{r.Name}: unavailable until configured ({r.UnavailableReason}); requests skip it")
            .ToList();
        var policy = new RoutingPolicy(
            Version(yaml),
            timeProvider.GetUtcNow(),
            yaml,
            routes,
            document.DefaultRoute!,
            document.ReferenceRoute,
            ToObjective(document.Objective),
            (document.Rules ?? []).Select((rule, i) => ToRule(rule!, i)).ToList(),
            (document.Budgets ?? []).ToDictionary(b => b.Key, b => ToBudget(b.Key, b.Value!), StringComparer.Ordinal),
            (document.RateLimits ?? []).ToDictionary(r => r.Key, r => new TeamRateLimit(r.Key, r.Value!.Rpm, r.Value.Tpm), StringComparer.Ordinal));
        return new PolicyLoadResult(policy, [], warnings);
    }

    private PolicyRoute ToRoute(string name, RouteDocument route)
    {
        var kind = _validator.KindOf(route)!;
        var unavailable = kind.Availability(route);
        var quality = route.Quality ?? [];
        var fallbackQuality = quality.GetValueOrDefault(PolicyValidator.DefaultQualityKey) ?? 0;
        var vector = PromptCategories.All.Select(c => quality.GetValueOrDefault(c) ?? fallbackQuality).ToArray();
        return new PolicyRoute
        {
            Name = name,
            Kind = route.Kind!,
            Upstream = route.Upstream,
            Target = kind.Target(route),
            InProcess = kind.InProcess(route),
            Options = (route.Options ?? []).ToFrozenDictionary(StringComparer.Ordinal),
            Adapter = route.Adapter,
            AdapterFile = route.AdapterFile,
            AdapterScale = route.AdapterScale ?? 1f,
            Knowledge = route.Knowledge,
            Model = route.Model!,
            Price = route.Price!.ToPrice(),
            Quality = quality.Where(q => q.Key != PolicyValidator.DefaultQualityKey)
                .ToFrozenDictionary(q => q.Key, q => q.Value!.Value, StringComparer.Ordinal),
            DefaultQuality = fallbackQuality,
            QualityVector = vector,
            UnclassifiedQuality = quality.ContainsKey(PolicyValidator.DefaultQualityKey) ? fallbackQuality : vector.Average(),
            LatencyClass = route.LatencyClass,
            PinnableBy = route.PinnableBy?.ToFrozenSet(StringComparer.Ordinal),
            PinnableModels = (route.Models ?? []).ToFrozenDictionary(p => p.Key, p => p.Value!.ToPrice(), StringComparer.Ordinal),
            Fallbacks = route.Fallbacks ?? [],
            Available = unavailable is null,
            UnavailableReason = unavailable,
        };
    }

    private static PolicyObjective? ToObjective(ObjectiveDocument? objective) => objective is null
        ? null
        : new PolicyObjective(
            objective.Type == "max_quality" ? ObjectiveType.MaxQuality : ObjectiveType.MinCost,
            objective.QualityFloor ?? 0,
            objective.CostCapUsd,
            objective.ExpectedOutputTokens);

    private static PolicyRule ToRule(RuleDocument rule, int index)
    {
        var when = rule.When ?? new ConditionDocument();
        var then = rule.Then!;
        static FrozenSet<string>? Set(List<string>? values) => values?.ToFrozenSet(StringComparer.Ordinal);
        static ValueRange? Range(RangeDocument? range) => range is null
            ? null
            : new ValueRange(range.Min ?? double.NegativeInfinity, range.Max ?? double.PositiveInfinity);
        return new PolicyRule
        {
            Name = rule.Name!,
            Index = index,
            Categories = Set(when.Category),
            NeedsStrong = Range(when.NeedsStrong),
            Teams = Set(when.Team),
            Keys = Set(when.Key),
            Models = Set(when.Model),
            PromptTokens = Range(when.PromptTokens),
            Tools = when.Tools,
            Stream = when.Stream,
            RetrievalRelevance = Range(when.RetrievalRelevance),
            // Header names are case-insensitive in HTTP; values are compared as sent.
            Headers = (when.Headers ?? []).Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), h.Value!.ToFrozenSet(StringComparer.Ordinal))).ToList(),
            Route = then.Route,
            Exclude = then.Exclude ?? [],
            QualityFloor = then.QualityFloor,
            CostCapUsd = then.CostCapUsd,
        };
    }

    private static TeamBudget ToBudget(string team, BudgetDocument budget) => new(
        team,
        budget.DailyUsd,
        budget.MonthlyUsd,
        budget.OnExceed == "downgrade" ? BudgetAction.Downgrade : BudgetAction.Reject,
        budget.DowngradeTo)
    {
        AlertAt = budget.AlertAt is { } thresholds ? [.. thresholds.Distinct().Order()] : TeamBudget.DefaultAlertAt,
    };

    public static string Version(string yaml) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(yaml)))[..12];
}

/// <summary>A policy, or the errors that kept it from loading; warnings never block loading.</summary>
public sealed record PolicyLoadResult(RoutingPolicy? Policy, IReadOnlyList<string> Errors, IReadOnlyList<string>? Warnings = null)
{
    public static PolicyLoadResult Failed(string error) => new(null, [error]);
}
