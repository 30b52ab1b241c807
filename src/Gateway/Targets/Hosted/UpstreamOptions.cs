namespace Gateway.Targets.Hosted;

/// <summary>One OpenAI-compatible provider, bound from <c>Upstreams:&lt;name&gt;</c>.</summary>
public sealed class UpstreamOptions
{
    public const string Section = "Upstreams";

    public const string OpenAiKind = "openai";
    public const string AzureKind = "azure";

    /// <summary>
    /// <c>openai</c> (default): any OpenAI-compatible API, <c>{BaseUrl}/chat/completions</c> with <c>Authorization: Bearer</c>.
    /// <c>azure</c>: Azure OpenAI deployments, <c>{BaseUrl}/openai/deployments/{model}/chat/completions?api-version={ApiVersion}</c>
    /// with an <c>api-key</c> header; a route's <c>model</c> is the deployment name.
    /// </summary>
    public string Kind { get; set; } = OpenAiKind;

    /// <summary>
    /// The provider's API root: with its version segment for <c>openai</c> (<c>https://api.openai.com/v1</c>), the resource
    /// endpoint for <c>azure</c> (<c>https://my-resource.openai.azure.com</c>).
    /// </summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Azure only: the <c>api-version</c> query parameter, e.g. <c>2024-10-21</c>.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>The provider key sent as <c>Authorization: Bearer</c>. Upstream <c>openai</c> defaults to <c>OPENAI_API_KEY</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Longest silence tolerated from the provider (before the first byte and between chunks); then 504.
    /// Default 5 minutes, as non-streamed reasoning answers can take that long. Range 100 ms – 1 hour.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>TCP + TLS connect timeout. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Retries on this upstream, before the route's fallbacks, of failures where nothing reached the client and the
    /// provider did no work: connection errors, 429 and 502/503. Default 2 (0 turns retries off; at most 10).
    /// </summary>
    public int Retries { get; set; } = 2;

    /// <summary>Median delay before the first retry, doubled for each next one, with jitter. Default 250 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A 429 whose <c>Retry-After</c> asks for longer than this is not retried here (the fallback, or the client, gets it). Default 10 s.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>No retry starts once this much time has passed since the request's first attempt on this upstream. Default 20 s.</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>When to stop trying a failing deployment for a while.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>
    /// Several endpoints serving the same models (regions, a provisioned deployment with pay-as-you-go spill-over). Each
    /// request goes to the lowest <see cref="DeploymentOptions.Priority"/> whose circuit is not open, chosen by
    /// <see cref="DeploymentOptions.Weight"/> among equals; a retry moves to another deployment when there is one. Empty
    /// (the default): one deployment, <see cref="BaseUrl"/> with <see cref="ApiKey"/>.
    /// </summary>
    public List<DeploymentOptions> Deployments { get; set; } = [];
}

/// <summary>One endpoint of an upstream, bound from <c>Upstreams:&lt;name&gt;:Deployments:&lt;i&gt;</c>.</summary>
public sealed class DeploymentOptions
{
    /// <summary>For logs, metrics and <c>/admin/status</c>; default <c>&lt;upstream&gt;-&lt;i&gt;</c>.</summary>
    public string? Name { get; set; }

    public string BaseUrl { get; set; } = "";

    /// <summary>Default: the upstream's <see cref="UpstreamOptions.ApiKey"/>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Share of requests among deployments of the same priority (default 1).</summary>
    public double Weight { get; set; } = 1;

    /// <summary>0 first; a higher number takes requests only while every lower one is open or failed this request (spill-over).</summary>
    public int Priority { get; set; }
}

/// <summary>
/// Per upstream: when at least <see cref="MinimumThroughput"/> attempts in <see cref="SamplingDuration"/> include a
/// <see cref="FailureRatio"/> share of provider faults (connection errors, timeouts, 5xx), the circuit opens: requests
/// skip the upstream (its routes fall back, or answer 503) for <see cref="BreakDuration"/>, then one probe request
/// decides whether it closes again.
/// </summary>
public sealed class CircuitBreakerOptions
{
    public bool Enabled { get; set; } = true;

    public double FailureRatio { get; set; } = 0.5;

    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
