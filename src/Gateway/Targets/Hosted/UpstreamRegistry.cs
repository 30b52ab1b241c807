using System.Collections.Frozen;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Targets.Hosted;

/// <summary>A configured provider with its pooled connection handler, built once at start.</summary>
public sealed class Upstream : IDisposable
{
    internal Upstream(string name, UpstreamOptions options)
    {
        Name = name;
        Options = options;
        BaseUrl = options.BaseUrl.TrimEnd('/');
        ApiKey = string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey;
        RequestConfig = new ForwarderRequestConfig { ActivityTimeout = options.Timeout };
        // The settings YARP recommends for a forwarding client: no proxy, cookies, redirects or decompression.
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = options.ConnectTimeout,
        });
    }

    public string Name { get; }
    public string BaseUrl { get; }
    public string? ApiKey { get; }
    public ForwarderRequestConfig RequestConfig { get; }
    public HttpMessageInvoker Invoker { get; }
    public UpstreamOptions Options { get; }

    public bool IsAzure => Options.Kind == UpstreamOptions.AzureKind;

    /// <summary>Where <paramref name="operation"/> for <paramref name="model"/> is sent (Azure addresses a deployment per model).</summary>
    public Uri RequestUri(OpenAi.OpenAiOperation operation, string model) => IsAzure
        ? new Uri($"{BaseUrl}/openai/deployments/{Uri.EscapeDataString(model)}{OpenAi.OpenAiOperationExtensions.UpstreamPath(operation)}?api-version={Uri.EscapeDataString(Options.ApiVersion!)}")
        : new Uri(BaseUrl + OpenAi.OpenAiOperationExtensions.UpstreamPath(operation));

    /// <summary>Retries and the circuit breaker around one request's attempts on this upstream (see <see cref="UpstreamResilience"/>).</summary>
    internal UpstreamResilience Resilience { get; private set; } = null!;

    internal void UseResilience(UpstreamResilience resilience) => Resilience = resilience;

    public void Dispose() => Invoker.Dispose();
}

/// <summary>Every configured upstream by name.</summary>
public sealed class UpstreamRegistry : IDisposable
{
    private readonly FrozenDictionary<string, Upstream> _upstreams;

    public UpstreamRegistry(IOptions<UpstreamsOptions> options, Telemetry.GatewayMetrics metrics, TimeProvider timeProvider, ILogger<UpstreamRegistry> logger)
    {
        _upstreams = options.Value.Items.ToFrozenDictionary(p => p.Key, p => new Upstream(p.Key, p.Value), StringComparer.Ordinal);
        Names = _upstreams.Keys.ToFrozenSet(StringComparer.Ordinal);
        foreach (var upstream in _upstreams.Values)
        {
            upstream.UseResilience(new UpstreamResilience(upstream.Name, upstream.Options, metrics, timeProvider, logger));
        }
    }

    public IReadOnlySet<string> Names { get; }

    public IEnumerable<Upstream> All => _upstreams.Values;

    public Upstream Get(string name) => _upstreams.TryGetValue(name, out var upstream)
        ? upstream
        : throw new InvalidOperationException($"Upstream '{name}' is not configured.");

    public void Dispose()
    {
        foreach (var upstream in _upstreams.Values)
        {
            upstream.Dispose();
        }
    }
}

/// <summary>All of <c>Upstreams:</c>, keyed by name.</summary>
public sealed class UpstreamsOptions
{
    public Dictionary<string, UpstreamOptions> Items { get; } = new(StringComparer.Ordinal);
}

internal sealed class UpstreamsOptionsSetup(IConfiguration configuration) : IConfigureOptions<UpstreamsOptions>
{
    public void Configure(UpstreamsOptions options)
    {
        foreach (var section in configuration.GetSection(UpstreamOptions.Section).GetChildren())
        {
            var upstream = new UpstreamOptions();
            section.Bind(upstream);
            if (string.IsNullOrEmpty(upstream.ApiKey) && section.Key == "openai")
            {
                upstream.ApiKey = configuration["OPENAI_API_KEY"];
            }

            options.Items[section.Key] = upstream;
        }
    }
}

internal sealed class UpstreamsOptionsValidation : IValidateOptions<UpstreamsOptions>
{
    public ValidateOptionsResult Validate(string? name, UpstreamsOptions options)
    {
        var errors = new List<string>();
        foreach (var (upstream, settings) in options.Items)
        {
            var path = $"{UpstreamOptions.Section}:{upstream}";
            if (!Uri.TryCreate(settings.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"{path}:BaseUrl must be an absolute http(s) URL such as https://api.openai.com/v1 (got '{settings.BaseUrl}')");
            }

            if (settings.Timeout < TimeSpan.FromMilliseconds(100) || settings.Timeout > TimeSpan.FromHours(1))
            {
                errors.Add($"{path}:Timeout must be between 00:00:00.1 and 01:00:00 (got {settings.Timeout})");
            }

            if (settings.ConnectTimeout <= TimeSpan.Zero || settings.ConnectTimeout > TimeSpan.FromMinutes(5))
            {
                errors.Add($"{path}:ConnectTimeout must be between 0 and 00:05:00 (got {settings.ConnectTimeout})");
            }

            if (settings.Kind is not (UpstreamOptions.OpenAiKind or UpstreamOptions.AzureKind))
            {
                errors.Add($"{path}:Kind must be '{UpstreamOptions.OpenAiKind}' or '{UpstreamOptions.AzureKind}' (got '{settings.Kind}')");
            }
            else if (settings.Kind == UpstreamOptions.AzureKind && string.IsNullOrWhiteSpace(settings.ApiVersion))
            {
                errors.Add($"{path}:ApiVersion is required for Azure OpenAI (the api-version query parameter, e.g. 2024-10-21)");
            }

            if (settings.Retries is < 0 or > 10)
            {
                errors.Add($"{path}:Retries must be between 0 and 10 (got {settings.Retries})");
            }

            if (settings.RetryDelay < TimeSpan.Zero || settings.RetryDelay > TimeSpan.FromMinutes(1)
                || settings.MaxRetryAfter < TimeSpan.Zero || settings.RetryWindow < TimeSpan.Zero)
            {
                errors.Add($"{path}:RetryDelay (at most 00:01:00), MaxRetryAfter and RetryWindow must not be negative");
            }

            var breaker = settings.CircuitBreaker;
            if (breaker.FailureRatio is <= 0 or > 1 || breaker.MinimumThroughput < 2
                || breaker.SamplingDuration < TimeSpan.FromMilliseconds(500) || breaker.BreakDuration < TimeSpan.FromMilliseconds(500))
            {
                errors.Add($"{path}:CircuitBreaker needs FailureRatio in (0, 1], MinimumThroughput >= 2, SamplingDuration and BreakDuration >= 00:00:00.5");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
