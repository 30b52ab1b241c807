namespace Gateway.Auth;

/// <summary>Who is calling: a key id safe to log and the team it belongs to.</summary>
public sealed record ClientIdentity(string KeyId, string Team);
