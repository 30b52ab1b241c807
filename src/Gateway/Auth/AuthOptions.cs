namespace Gateway.Auth;

/// <summary>Client and admin keys, bound from the <c>Auth</c> section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Key for <c>/admin</c>. Empty (the default) disables the admin API.</summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// Key Prometheus sends (<c>authorization: { credentials: … }</c>) to read <c>/metrics</c>, which carries team
    /// names and spend. Empty (the default): <c>/metrics</c> is open, for a scraper on a private network.
    /// </summary>
    public string? MetricsKey { get; set; }

    /// <summary>Static client keys, each mapped to a team. Empty by default: every <c>/v1</c> call gets 401 unless keys are created at runtime.</summary>
    public List<ClientKeyOptions> Keys { get; set; } = [];

    /// <summary>
    /// The secret keying the hash of runtime keys (<c>/admin/keys</c>). Empty (the default): one is generated once and kept
    /// in the gateway's database, which every replica sharing it reads.
    /// </summary>
    public string? KeyHashSecret { get; set; }

    /// <summary>How often each replica looks for key changes made elsewhere (default 1 s): the delay before a revocation holds everywhere.</summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>One static client key.</summary>
public sealed class ClientKeyOptions
{
    /// <summary>The secret the client sends as <c>Authorization: Bearer</c>.</summary>
    public string Key { get; set; } = "";

    /// <summary>The team whose spend and budgets this key counts against.</summary>
    public string Team { get; set; } = "";

    /// <summary>A name for logs and the ledger; defaults to a prefix of the key's hash, never the key.</summary>
    public string? Name { get; set; }

    /// <summary>Requests per minute; null (the default): no limit.</summary>
    public int? RpmLimit { get; set; }

    /// <summary>Tokens per minute (prompt and completion); null (the default): no limit.</summary>
    public long? TpmLimit { get; set; }
}
