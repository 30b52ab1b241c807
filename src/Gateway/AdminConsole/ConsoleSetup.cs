using Gateway.Auth;
using Gateway.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;

namespace Gateway.AdminConsole;

/// <summary>Settings of the built-in console (<c>Console:*</c>).</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>Serve <c>/console</c> (on by default; it answers only to admin keys).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a sign-in lasts; after it the console asks for the key again.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>
/// The console at <c>/console</c>: server-rendered Razor Pages in this process, signed in with an admin key (the
/// session is an HttpOnly, SameSite=Strict cookie holding the key's name and scopes, never the key), anti-forgery
/// tokens on every form. Nothing is added to the <c>/v1</c> pipeline: the console's pages authenticate in a page
/// filter (<see cref="ConsoleAccessFilter"/>), not in a middleware every request would pass through.
/// </summary>
public static class ConsoleSetup
{
    public static IServiceCollection AddGatewayConsole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConsoleOptions>().Bind(configuration.GetSection(ConsoleOptions.Section));
        services.AddRazorPages(options =>
            {
                options.RootDirectory = "/AdminConsole/Pages";
                options.Conventions.ConfigureFilter(new ConsoleAccessFilter());
            })
            // Found in this assembly whoever the entry assembly is (tests host the gateway in theirs).
            .AddApplicationPart(typeof(ConsoleSetup).Assembly);
        // One key ring for every replica that shares the database (and across restarts of a container).
        services.AddDataProtection().SetApplicationName("llm-gateway");
        services.AddOptions<KeyManagementOptions>()
            .Configure<GatewayDatabase, TimeProvider>((o, database, time) => o.XmlRepository = new DatabaseKeyRing(database, time));
        services.AddAuthentication()
            .AddCookie(ConsoleAuth.Scheme, _ => { });
        services.AddOptions<CookieAuthenticationOptions>(ConsoleAuth.Scheme)
            .Configure<IOptions<ConsoleOptions>>((cookie, console) =>
            {
                cookie.Cookie.Name = "gw_console";
                cookie.Cookie.Path = "/console";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = console.Value.SessionLifetime;
                cookie.SlidingExpiration = false;
                cookie.LoginPath = ConsoleAuth.SignInPath;
                cookie.Events.OnValidatePrincipal = ConsoleAuth.ValidateAsync;
            });
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "gw_console_af";
            options.Cookie.Path = "/console";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
        });
        return services;
    }

    public static WebApplication MapGatewayConsole(this WebApplication app)
    {
        // WebApplication puts the authentication, authorization and anti-forgery middlewares in front of every endpoint
        // when their services are registered, as the console's are; with one cookie scheme registered, the first would
        // authenticate every /v1 request with it. The console needs none of them: its page filter authenticates
        // (ConsoleAuth.AuthenticateAsync) and Razor Pages validates its forms' tokens in a filter of its own. Marking them
        // as added (the keys UseAuthentication/UseAuthorization/UseAntiforgery set) keeps them off the /v1 path.
        var properties = ((IApplicationBuilder)app).Properties;
        foreach (var key in (string[])["__AuthenticationMiddlewareSet", "__AuthorizationMiddlewareSet", "__AntiforgeryMiddlewareSet"])
        {
            properties[key] = true;
        }

        if (app.Services.GetRequiredService<IOptions<ConsoleOptions>>().Value.Enabled)
        {
            app.MapRazorPages();
        }

        return app;
    }
}

/// <summary>The admin scope a console page needs (none: any signed-in admin key).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ConsoleScopeAttribute(string scope) : Attribute
{
    public string Scope { get; } = scope;
}

/// <summary>A console page reachable without signing in (the sign-in page itself).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ConsoleAnonymousAttribute : Attribute;

/// <summary>
/// Every console page: signs the visitor in from the session cookie (re-validating the key behind it), sends
/// strangers to the sign-in page, and answers 403 to a key without the page's scope.
/// </summary>
internal sealed class ConsoleAccessFilter : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var http = context.HttpContext;
        var type = context.HandlerInstance.GetType();
        if (type.IsDefined(typeof(ConsoleAnonymousAttribute), inherit: false))
        {
            await next();
            return;
        }

        var identity = await ConsoleAuth.AuthenticateAsync(http);
        if (identity is null)
        {
            var back = http.Request.Path + http.Request.QueryString;
            context.Result = new Microsoft.AspNetCore.Mvc.RedirectResult($"{ConsoleAuth.SignInPath}?returnUrl={Uri.EscapeDataString(back)}");
            return;
        }

        http.Features.Set(identity);
        if (type.GetCustomAttributes(typeof(ConsoleScopeAttribute), inherit: false) is [ConsoleScopeAttribute required] && !identity.Has(required.Scope))
        {
            context.Result = new Microsoft.AspNetCore.Mvc.ContentResult
            {
                StatusCode = StatusCodes.Status403Forbidden,
                ContentType = "text/html; charset=utf-8",
                Content = ConsoleAuth.DeniedPage(identity.Name, required.Scope),
            };
            return;
        }

        await next();
    }
}
