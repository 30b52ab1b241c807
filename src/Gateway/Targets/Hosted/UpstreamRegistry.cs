using System.Collections.Frozen;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Targets.Hosted;

/// <summary>One endpoint of an upstream: its URL and key, its pooled connections and its circuit breaker.</summary>
public sealed class UpstreamDeployment : IDisposable
{
    internal UpstreamDeployment(string name, string baseUrl, string? apiKey, double weight, int priority, TimeSpan connectTimeout)
    {
        Name = name;
        BaseUrl = baseUrl.TrimEnd('/');
        ApiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        Weight = weight;
        Priority = priority;
        // The settings YARP recommends for a forwarding client: no proxy, cookies, redirects or decompression.
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = connectTimeout,
        });
    }

    public string Name { get; }
    public string BaseUrl { get; }
    public string? ApiKey { get; }
    public double Weight { get; }
    public int Priority { get; }
    public HttpMessageInvoker Invoker { get; }

    /// <summary>This deployment's circuit breaker (a pass-through when breakers are disabled).</summary>
    internal DeploymentCircuit Circuit { get; set; } = null!;

    public void Dispose() => Invoker.Dispose();
}

/// <summary>A configured provider: one or more deployments, built once at start.</summary>
public sealed class Upstream : IDisposable
{
    internal Upstream(string name, UpstreamOptions options)
    {
        Name = name;
        Options = options;
        RequestConfig = new ForwarderRequestConfig { ActivityTimeout = options.Timeout };
        Deployments = options.Deployments.Count == 0
            ? [new UpstreamDeployment(name, options.BaseUrl, options.ApiKey, 1, 0, options.ConnectTimeout)]
            : options.Deployments.Select((d, i) => new UpstreamDeployment(d.Name ?? $"{name}-{i}", d.BaseUrl, d.ApiKey ?? options.ApiKey,
                d.Weight, d.Priority, options.ConnectTimeout)).ToArray();
    }

    public string Name { get; }
    public ForwarderRequestConfig RequestConfig { get; }
    public UpstreamOptions Options { get; }
    public IReadOnlyList<UpstreamDeployment> Deployments { get; }

    /// <summary>The first deployment's URL (the only one, unless <see cref="UpstreamOptions.Deployments"/> lists several).</summary>
    public string BaseUrl => Deployments[0].BaseUrl;

    public bool IsAzure => Options.Kind == UpstreamOptions.AzureKind;

    /// <summary>Where <paramref name="operation"/> for <paramref name="model"/> is sent on <paramref name="deployment"/> (Azure addresses a deployment per model).</summary>
    public Uri RequestUri(UpstreamDeployment deployment, OpenAi.OpenAiOperation operation, string model) =>
        IsAzure && operation == OpenAi.OpenAiOperation.Responses ? AzureResponsesUri(deployment, "")
        : IsAzure
        ? new Uri($"{deployment.BaseUrl}/openai/deployments/{Uri.EscapeDataString(model)}{OpenAi.OpenAiOperationExtensions.UpstreamPath(operation)}?api-version={Uri.EscapeDataString(Options.ApiVersion!)}")
        : new Uri(deployment.BaseUrl + OpenAi.OpenAiOperationExtensions.UpstreamPath(operation));

    /// <summary>
    /// A Responses API URL below the deployment, <paramref name="rest"/> being "" or <c>/{id}</c>…: Azure serves the
    /// Responses API per resource (the model in the body names the deployment), not per deployment path.
    /// </summary>
    public Uri ResponsesUri(UpstreamDeployment deployment, string rest) =>
        IsAzure ? AzureResponsesUri(deployment, rest) : new Uri(deployment.BaseUrl + "/responses" + rest);

    private Uri AzureResponsesUri(UpstreamDeployment deployment, string rest) =>
        new($"{deployment.BaseUrl}/openai/responses{rest}?api-version={Uri.EscapeDataString(Options.ApiVersion!)}");

    /// <summary>Retries around one request's attempts on this upstream (see <see cref="UpstreamResilience"/>).</summary>
    internal UpstreamResilience Resilience { get; private set; } = null!;

    internal void UseResilience(UpstreamResilience resilience) => Resilience = resilience;

    /// <summary>
    /// The deployment for a request's next attempt: among those whose circuit is not open, preferring ones that have not
    /// failed this request (<paramref name="failed"/>), the lowest priority, then by weight. Null when every circuit is open.
    /// </summary>
    internal UpstreamDeployment? Choose(IReadOnlyCollection<UpstreamDeployment> failed)
    {
        if (Deployments.Count == 1)
        {
            return Deployments[0].Circuit.IsOpen ? null : Deployments[0];
        }

        var usable = Deployments.Where(d => !d.Circuit.IsOpen).ToList();
        if (usable.Count == 0)
        {
            return null;
        }

        var fresh = usable.Where(d => !failed.Contains(d)).ToList();
        var pool = fresh.Count > 0 ? fresh : usable;
        var tier = pool.Min(d => d.Priority);
        pool = pool.Where(d => d.Priority == tier).ToList();
        var pick = Random.Shared.NextDouble() * pool.Sum(d => d.Weight);
        foreach (var deployment in pool)
        {
            pick -= deployment.Weight;
            if (pick < 0)
            {
                return deployment;
            }
        }

        return pool[^1];
    }

    /// <summary>Whether a deployment other than those in <paramref name="failed"/> can take a retry.</summary>
    internal bool HasFresh(IReadOnlyCollection<UpstreamDeployment> failed) => Deployments.Any(d => !d.Circuit.IsOpen && !failed.Contains(d));

    /// <summary><c>closed</c> when every deployment serves, <c>open</c> when none does, else <c>degraded</c> (or <c>disabled</c>).</summary>
    public string CircuitState => Deployments.Select(d => d.Circuit.State).Distinct().ToArray() switch
    {
        [var only] => only,
        var states when states.All(s => s == "open") => "open",
        _ => "degraded",
    };

    public void Dispose()
    {
        foreach (var deployment in Deployments)
        {
            deployment.Dispose();
        }
    }
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
            foreach (var deployment in upstream.Deployments)
            {
                deployment.Circuit = new DeploymentCircuit(upstream.Name, deployment.Name, upstream.Options.CircuitBreaker, metrics, timeProvider, logger);
            }
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
            if (settings.Deployments.Count == 0 && !IsHttpUrl(settings.BaseUrl))
            {
                errors.Add($"{path}:BaseUrl must be an absolute http(s) URL such as https://api.openai.com/v1 (got '{settings.BaseUrl}')");
            }

            for (var i = 0; i < settings.Deployments.Count; i++)
            {
                var deployment = settings.Deployments[i];
                if (!IsHttpUrl(deployment.BaseUrl))
                {
                    errors.Add($"{path}:Deployments:{i}:BaseUrl must be an absolute http(s) URL (got '{deployment.BaseUrl}')");
                }

                if (deployment.Weight is <= 0 or > 1_000_000 || deployment.Priority < 0)
                {
                    errors.Add($"{path}:Deployments:{i}: Weight must be above 0 and Priority at least 0");
                }
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

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
