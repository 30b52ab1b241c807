using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.Testing;
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

    [Fact]
    public async Task ASession_SignedInOnOneReplica_IsValidOnAnotherSharingTheDatabase_AndNowhereElse()
    {
        var shared = Path.Combine(TestFolders.Create("console-replicas-").FullName, "gateway.db");
        var sharedDatabase = new Dictionary<string, string?> { ["Ledger:ConnectionString"] = $"Data Source={shared}" };
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var first = await GatewayHost.StartAsync(upstream.BaseUrl, settings: sharedDatabase);
        await using var second = await GatewayHost.StartAsync(upstream.BaseUrl, settings: sharedDatabase);
        await using var elsewhere = await GatewayHost.StartAsync(upstream.BaseUrl);

        var (client, cookies) = await ConsoleTests.SignedInClientAsync(first.BaseUrl, GatewayHost.AdminKey);
        client.Dispose();
        var session = cookies.GetCookieHeader(new Uri(first.BaseUrl + "/console/"));
        Assert.Contains("gw_console=", session, StringComparison.Ordinal);

        async Task<HttpResponseMessage> StatusPage(GatewayHost host)
        {
            using var plain = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(host.BaseUrl) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/console");
            request.Headers.Add("Cookie", session);
            return await plain.SendAsync(request);
        }

        using (var onSecond = await StatusPage(second))
        {
            Assert.Equal(HttpStatusCode.OK, onSecond.StatusCode);
            Assert.Contains("signed-in-as", await onSecond.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A gateway with a database (so a key ring) of its own cannot read the cookie: sent to sign in.
        using var onOther = await StatusPage(elsewhere);
        Assert.Equal(HttpStatusCode.Redirect, onOther.StatusCode);
        Assert.StartsWith("/console/signin", onOther.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }
}
