namespace Gateway.Auth;

/// <summary>Who is calling: a key id safe to log (the key's name) and the team it belongs to.</summary>
/// <param name="Models">What the key may ask for as <c>model</c>; null: whatever its team may.</param>
public sealed record ClientIdentity(string KeyId, string Team, IReadOnlySet<string>? Models = null);
