using Microsoft.AspNetCore.WebUtilities;
using System.Text.Json;
using Gateway.Admin;
using Gateway.AdminConsole;
using Gateway.Auth;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;
using Gateway.Spend;
using Gateway.Targets;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Gateway.Hosting;

public static class GatewayHostingExtensions
{
    /// <summary>The default address when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> says otherwise.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>Registers every gateway feature.</summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayMetrics>();
        services.AddOptions<OpenAiOptions>().BindConfiguration(OpenAiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LedgerOptions>().BindConfiguration(LedgerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<LedgerOptions>, LedgerOptionsValidation>();
        services.AddSingleton<GatewayDatabase>();
        services.AddHostedService<SchemaMigrationService>(); // first: the schema is in place before any feature starts
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section);
        services.AddSingleton<SharedState>();
        services.AddSingleton<Retrieval.MiniLmEmbedder>();
        services.AddSingleton<Retrieval.KnowledgeBase>();
        services.AddOptions<Retrieval.RetrievalOptions>().BindConfiguration(Retrieval.RetrievalOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddGatewayAuth();
        services.AddGatewayTargets();
        services.AddGatewayClassification();
        services.AddGatewayPolicies();
        services.AddGatewaySpend();
        services.AddSingleton<Router>();
        services.AddSingleton<RequestPlanner>();
        services.AddSingleton<ResponseAffinity>();
        services.AddSingleton<PolicySimulator>();
        services.AddSingleton<SimulationLog>();
        services.AddSingleton<RetrievalRelevance>();
        services.AddSingleton<RouteExecutor>();
        services.AddSingleton<RequestPipeline>();
        services.AddHostedService<StartupReport>();
        services.AddOptions<RuntimeOptions>().BindConfiguration(RuntimeOptions.Section);
        services.AddSingleton<LargeBodyReclaimer>();
        services.AddHostedService(sp => sp.GetRequiredService<LargeBodyReclaimer>());
        services.AddGatewayConsole(builder.Configuration);
        services.AddHealthChecks();
        // A query or route value that does not bind (?limit=abc) throws BadHttpRequestException with what failed,
        // which OpenAiErrorMiddleware answers in the OpenAI shape, instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return builder;
    }

    /// <summary>Maps every gateway endpoint and the middleware in front of them.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseMiddleware<GatewayRequestMiddleware>();
        app.UseMiddleware<OpenAiErrorMiddleware>();
        app.RequireMetricsKey("/metrics");
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            return http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => ErrorResponses.WriteAsync(http, OpenAiErrors.UnknownUrl(http.Request.Method, http.Request.Path)),
                StatusCodes.Status405MethodNotAllowed => ErrorResponses.WriteAsync(http, OpenAiErrors.MethodNotAllowed(http.Request.Method, http.Request.Path)),
                // Any other status the framework set without a body.
                >= 400 and var status => ErrorResponses.WriteAsync(http, new OpenAiException(status,
                    $"The request could not be served ({status} {ReasonPhrases.GetReasonPhrase(status)}).",
                    status >= 500 ? OpenAiErrors.Server : OpenAiErrors.InvalidRequest, "http_" + status)),
                _ => Task.CompletedTask,
            };
        });

        app.MapOpenAi();
        app.MapAdmin();
        app.MapGatewayConsole();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteHealth });
        app.MapMetrics("/metrics", app.Services.GetRequiredService<GatewayMetrics>().Registry);
        return app;
    }

    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString());
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = checks,
        }));
    }
}
