namespace Gateway.Targets.Hosted;

/// <summary>One OpenAI-compatible provider, bound from <c>Upstreams:&lt;name&gt;</c>.</summary>
public sealed class UpstreamOptions
{
    public const string Section = "Upstreams";

    /// <summary>The provider's API root including its version segment, e.g. <c>https://api.openai.com/v1</c>.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>The provider key sent as <c>Authorization: Bearer</c>. Upstream <c>openai</c> defaults to <c>OPENAI_API_KEY</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Longest silence tolerated from the provider (before the first byte and between chunks); then 504.
    /// Default 5 minutes, as non-streamed reasoning answers can take that long. Range 100 ms – 1 hour.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>TCP + TLS connect timeout. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
