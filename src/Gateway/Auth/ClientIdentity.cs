namespace Gateway.Auth;

/// <summary>Who is calling: a key id safe to log (the key's name) and the team it belongs to.</summary>
/// <param name="Models">What the key may ask for as <c>model</c>; null: whatever its team may.</param>
/// <param name="RpmLimit">Requests per minute the key may make; null: no limit.</param>
/// <param name="TpmLimit">Tokens (prompt and completion) per minute the key may use; null: no limit.</param>
/// <param name="Budget">The key's own spend limits (a runtime key's <c>budget</c>), checked beside its team's; null: none.</param>
public sealed record ClientIdentity(string KeyId, string Team, IReadOnlySet<string>? Models = null, int? RpmLimit = null, long? TpmLimit = null,
    Policies.TeamBudget? Budget = null);
