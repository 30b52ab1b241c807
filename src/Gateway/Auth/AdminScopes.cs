using System.Collections.Frozen;

namespace Gateway.Auth;

/// <summary>What an admin key may do. <see cref="Admin"/> is everything; <c>Auth:AdminKey</c> has it.</summary>
public static class AdminScopes
{
    public const string SpendRead = "spend:read";
    public const string PolicyWrite = "policy:write";
    public const string KeysWrite = "keys:write";
    public const string KnowledgeWrite = "knowledge:write";
    public const string Admin = "admin";

    public static readonly FrozenSet<string> All = new[] { SpendRead, PolicyWrite, KeysWrite, KnowledgeWrite, Admin }.ToFrozenSet(StringComparer.Ordinal);
}

/// <summary>Endpoint metadata: the scope an admin key needs for the endpoint (none: any admin key).</summary>
public sealed record AdminScopeRequirement(string Scope);

/// <summary>The admin key that authorised a request: a name for audit logs (never the key) and its scopes.</summary>
public sealed record AdminIdentity(string Name, IReadOnlySet<string> Scopes)
{
    /// <summary>The actor recorded for the bootstrap <c>Auth:AdminKey</c>.</summary>
    public const string BootstrapName = "admin-key";

    /// <summary>The runtime key's id (null for <c>Auth:AdminKey</c>): the console re-checks it on every page, so a revocation ends a session.</summary>
    public string? KeyId { get; init; }

    public bool Has(string scope) => Scopes.Contains(AdminScopes.Admin) || Scopes.Contains(scope);
}
