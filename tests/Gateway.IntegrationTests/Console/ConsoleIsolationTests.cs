using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.IntegrationTests.Console;

/// <summary>
/// The console's services (cookie authentication, authorization, anti-forgery) stay off the <c>/v1</c> path: WebApplication
/// would otherwise put their middlewares in front of every request, and authenticate each one with the console's cookie.
/// </summary>
public sealed class ConsoleIsolationTests
{
    /// <summary>What each finished request carried: the path, whether it was authenticated, and the markers those middlewares leave.</summary>
    private sealed class Recorder : IStartupFilter
    {
        public ConcurrentQueue<(string Path, bool Authenticated, string[] Items)> Seen { get; } = new();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, call) =>
            {
                await call(context);
                Seen.Enqueue((context.Request.Path, context.Features.Get<IAuthenticateResultFeature>() is not null,
                    context.Items.Keys.Select(k => k.ToString() ?? "").ToArray()));
            });
            next(app);
        };
    }

    [Fact]
    public async Task AChatRequest_RunsNoConsoleMiddleware_EvenWithAConsoleCookie()
    {
        var recorder = new Recorder();
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(upstream.BaseUrl, services: s => s.AddSingleton<IStartupFilter>(recorder));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"small-model","messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Cookie", "gw_console=not-a-ticket; gw_console_af=x");
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The console itself still authenticates (its sign-in page renders with a fresh anti-forgery cookie).
        using (var signIn = await gateway.Client.GetAsync("/console/signin"))
        {
            Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
            Assert.Contains(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("gw_console_af=", StringComparison.Ordinal));
        }

        var chat = Assert.Single(recorder.Seen, s => s.Path == "/v1/chat/completions");
        Assert.False(chat.Authenticated);
        Assert.DoesNotContain(chat.Items, k => k.Contains("Authorization", StringComparison.Ordinal) || k.Contains("Antiforgery", StringComparison.Ordinal));
    }
}
