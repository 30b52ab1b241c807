using Gateway.Testing;
using Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>A real gateway on a loopback port, composed exactly as Program.cs composes it.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string ClientKey = "sk-test-client-key-0001";
    public const string OtherTeamKey = "sk-test-client-key-0002";
    public const string AdminKey = "admin-test-key-000000001";
    public const string ProviderKey = "sk-provider-secret-key";

    private readonly WebApplication _app;
    private readonly string _policyDirectory;

    private GatewayHost(WebApplication app, string policyDirectory)
    {
        _app = app;
        _policyDirectory = policyDirectory;
        BaseUrl = app.Urls.Single();
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Authorization = new("Bearer", ClientKey);
    }

    public string BaseUrl { get; }

    /// <summary>The routing.yaml this gateway serves (tests edit it to exercise hot reload).</summary>
    public string PolicyPath => Path.Combine(_policyDirectory, "routing.yaml");

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient AdminClient()
    {
        var admin = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", AdminKey);
        return admin;
    }

    /// <summary>A client that sends <see cref="ClientKey"/>.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>A policy with one hosted route <c>frontier</c> on upstream <c>fake</c>.</summary>
    public static string DefaultPolicy => """
        default_route: frontier
        reference_route: frontier
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00, cached_input_per_mtok: 1.25 }
            models:
              small-model: { input_per_mtok: 0.15, output_per_mtok: 0.60 }
              embed-model: { input_per_mtok: 0.02, output_per_mtok: 0 }
        """;

    public static async Task<GatewayHost> StartAsync(string upstreamBaseUrl, string? policy = null,
        IDictionary<string, string?>? settings = null, bool clientKeys = true, Action<IServiceCollection>? services = null)
    {
        var policyDirectory = TestFolders.Create("gateway-policy-").FullName;
        await File.WriteAllTextAsync(Path.Combine(policyDirectory, "routing.yaml"), policy ?? DefaultPolicy);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Testing",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (Environment.GetEnvironmentVariable("GATEWAY_TEST_LOGS") != "1")
        {
            builder.Logging.ClearProviders();
        }

        var config = new Dictionary<string, string?>
        {
            ["Policies:Path"] = policyDirectory,
            ["Ledger:ConnectionString"] = $"Data Source={Path.Combine(policyDirectory, "gateway.db")}",
            ["Upstreams:fake:BaseUrl"] = upstreamBaseUrl,
            ["Upstreams:fake:ApiKey"] = ProviderKey,
            ["Upstreams:fake:Timeout"] = "00:00:10",
            ["Auth:AdminKey"] = AdminKey,
        };
        if (clientKeys)
        {
            config["Auth:Keys:0:Key"] = ClientKey;
            config["Auth:Keys:0:Team"] = "research";
            config["Auth:Keys:0:Name"] = "research-ci";
            config["Auth:Keys:1:Key"] = OtherTeamKey;
            config["Auth:Keys:1:Team"] = "support";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(config);
        builder.AddGateway();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapGateway();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            Directory.Delete(policyDirectory, recursive: true);
            throw;
        }

        return new GatewayHost(app, policyDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_policyDirectory, recursive: true);
    }
}
