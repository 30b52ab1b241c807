using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;

namespace Gateway.Auth;

/// <summary>The body of <c>POST /admin/keys</c> and <c>PATCH /admin/keys/{id}</c> (snake_case; unknown fields are an error).</summary>
public sealed class KeyRequest
{
    [JsonPropertyName("name")] public string? Name { get; set; }

    [JsonPropertyName("team")] public string? Team { get; set; }

    [JsonPropertyName("owner")] public string? Owner { get; set; }

    [JsonPropertyName("metadata")] public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>What the key may ask for as <c>model</c> (<c>auto</c>, route names, concrete models); null: anything its team may.</summary>
    [JsonPropertyName("models")] public List<string>? Models { get; set; }

    [JsonPropertyName("rpm_limit")] public int? RpmLimit { get; set; }

    [JsonPropertyName("tpm_limit")] public long? TpmLimit { get; set; }

    [JsonPropertyName("expires_at")] public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The key's own spend limits, checked beside its team's; null: only the team's budget applies.</summary>
    [JsonPropertyName("budget")] public KeyBudgetRequest? Budget { get; set; }

    /// <summary>Makes an admin key with these scopes (<see cref="AdminScopes"/>): it has no team and cannot call <c>/v1</c>.</summary>
    [JsonPropertyName("scopes")] public List<string>? Scopes { get; set; }

    internal static readonly JsonSerializerOptions Options = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    /// <summary>What the audit log keeps of a change: the fields set, never a secret (a request carries none).</summary>
    internal string ToAuditJson(IReadOnlySet<string>? fields)
    {
        var all = JsonSerializer.SerializeToNode(this, Options)!.AsObject();
        foreach (var name in all.Select(p => p.Key).ToArray())
        {
            if (fields is null ? all[name] is null : !fields.Contains(name))
            {
                all.Remove(name);
            }
        }

        return all.ToJsonString();
    }
}

/// <summary>A key's budget, shaped like a team's in the policy (<c>budgets:</c>).</summary>
public sealed class KeyBudgetRequest
{
    [JsonPropertyName("daily_usd")] public decimal? DailyUsd { get; set; }

    [JsonPropertyName("monthly_usd")] public decimal? MonthlyUsd { get; set; }

    /// <summary><c>reject</c> (default: 429 until the period ends) or <c>downgrade</c> (to <see cref="DowngradeTo"/>, or the cheapest route).</summary>
    [JsonPropertyName("on_exceed")] public string? OnExceed { get; set; }

    [JsonPropertyName("downgrade_to")] public string? DowngradeTo { get; set; }

    internal Policies.TeamBudget ToBudget(string keyName) => Policies.TeamBudget.ForKey(keyName, DailyUsd, MonthlyUsd,
        OnExceed == "downgrade" ? Policies.BudgetAction.Downgrade : Policies.BudgetAction.Reject, DowngradeTo);
}

/// <summary>Rules for a key; <paramref name="creating"/> requires name and team, an update may send any subset.</summary>
internal sealed class KeyRequestValidator : AbstractValidator<KeyRequest>
{
    public const string NamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

    public KeyRequestValidator(bool creating, TimeProvider timeProvider)
    {
        RuleFor(k => k.Name).NotEmpty().When(_ => creating).WithMessage("is required");
        RuleFor(k => k.Name).Matches(NamePattern).When(k => k.Name is not null)
            .WithMessage("must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        RuleFor(k => k.Name).Null().When(_ => !creating)
            .WithMessage("cannot be changed: the ledger records spend by key name; create a new key instead");
        RuleFor(k => k.Team).NotEmpty().When(k => creating && k.Scopes is null).WithMessage("is required: the team whose budgets and spend the key counts against");
        RuleFor(k => k.Team).Null().When(k => k.Scopes is not null).WithMessage("must be left out for an admin key (one with scopes): it spends nothing");
        RuleFor(k => k.Scopes).Must(s => s!.Count > 0).When(k => k.Scopes is not null).WithMessage($"must list at least one of {string.Join(", ", AdminScopes.All)}");
        RuleForEach(k => k.Scopes).Must(AdminScopes.All.Contains).WithMessage($"must be one of {string.Join(", ", AdminScopes.All)}");
        RuleFor(k => k.Scopes).Null().When(_ => !creating).WithMessage("cannot be changed: create a new admin key and revoke this one");
        RuleFor(k => k.Models).Null().When(k => k.Scopes is not null).WithMessage("apply to client keys; an admin key (one with scopes) calls no models");
        RuleFor(k => k.RpmLimit).Null().When(k => k.Scopes is not null).WithMessage("apply to client keys; an admin key (one with scopes) calls no models");
        RuleFor(k => k.TpmLimit).Null().When(k => k.Scopes is not null).WithMessage("apply to client keys; an admin key (one with scopes) calls no models");
        RuleFor(k => k.Team).Matches(NamePattern).When(k => k.Team is not null)
            .WithMessage("must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        RuleFor(k => k.Owner).MaximumLength(200);
        RuleFor(k => k.Metadata).Must(m => m!.Count <= 32).When(k => k.Metadata is not null).WithMessage("must have at most 32 entries");
        RuleForEach(k => k.Metadata).Must(e => e.Key.Length is > 0 and <= 64 && e.Value is not null && e.Value.Length <= 512)
            .WithMessage("keys must be 1-64 characters and values at most 512");
        RuleFor(k => k.Models).Must(m => m!.Count is > 0 and <= 256).When(k => k.Models is not null)
            .WithMessage("must list 1-256 models (leave it out to allow every model the team may use)");
        RuleForEach(k => k.Models).NotEmpty().MaximumLength(200).WithMessage("must be model names");
        RuleFor(k => k.RpmLimit).InclusiveBetween(1, 1_000_000).When(k => k.RpmLimit is not null)
            .WithMessage("must be between 1 and 1,000,000 requests per minute");
        RuleFor(k => k.TpmLimit).InclusiveBetween(1, 10_000_000_000).When(k => k.TpmLimit is not null)
            .WithMessage("must be between 1 and 10,000,000,000 tokens per minute");
        RuleFor(k => k.Budget).Null().When(k => k.Scopes is not null).WithMessage("applies to client keys; an admin key (one with scopes) spends nothing");
        RuleFor(k => k.Budget!).SetValidator(new KeyBudgetValidator()).When(k => k.Budget is not null);
        RuleFor(k => k.ExpiresAt).Must(at => at > timeProvider.GetUtcNow()).When(k => k.ExpiresAt is not null)
            .WithMessage("must be in the future (ISO 8601, e.g. 2027-01-31T00:00:00Z)");
    }
}

internal sealed class KeyBudgetValidator : AbstractValidator<KeyBudgetRequest>
{
    private const decimal Most = 1_000_000m;

    public KeyBudgetValidator()
    {
        RuleFor(b => b.DailyUsd).NotNull().When(b => b.MonthlyUsd is null).WithMessage("or monthly_usd is required: a budget needs a limit (send \"budget\": null to remove it)");
        RuleFor(b => b.DailyUsd).Must(v => v is > 0 and <= Most).When(b => b.DailyUsd is not null).WithMessage("must be more than 0 and at most 1,000,000 USD");
        RuleFor(b => b.MonthlyUsd).Must(v => v is > 0 and <= Most).When(b => b.MonthlyUsd is not null).WithMessage("must be more than 0 and at most 1,000,000 USD");
        RuleFor(b => b.OnExceed).Must(a => a is null or "reject" or "downgrade").WithMessage("must be 'reject' or 'downgrade'");
        RuleFor(b => b.DowngradeTo).Null().When(b => b.OnExceed != "downgrade").WithMessage("applies only with on_exceed: downgrade");
        RuleFor(b => b.DowngradeTo).NotEmpty().MaximumLength(200).When(b => b.DowngradeTo is not null).WithMessage("must be a route name");
    }
}
