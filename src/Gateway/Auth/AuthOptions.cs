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

    /// <summary>Static client keys, each mapped to a team. Empty by default: every <c>/v1</c> call gets 401.</summary>
    public List<ClientKeyOptions> Keys { get; set; } = [];
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
}
