using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.Policies;
using Gateway.Spend;
using Gateway.Targets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.IntegrationTests;

/// <summary>
/// A strategy is a plug-in: registering an <see cref="IRouteKind"/> and an <see cref="IRouteTarget"/> is all a new kind
/// needs — policies validate it, routing picks it, the ledger prices it — with no switch edited anywhere.
/// </summary>
public sealed class RouteKindPluginTests : IAsyncLifetime
{
    private const string Policy = """
        default_route: frontier
        reference_route: frontier
        routes:
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00 }
          parrot:
            kind: echo
            options: { voice: loud }
            model: parrot-1
            price: { input_per_mtok: 1000, output_per_mtok: 1000 }
        rules:
          - name: chat-to-parrot
            when: { category: [chat] }
            then: { route: parrot }
        """;

    private FakeOpenAiUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, Policy, new Dictionary<string, string?> { ["Ledger:Durability"] = "sync" },
            services: services =>
            {
                services.AddSingleton<IRouteKind, EchoKind>();
                services.AddSingleton<IRouteTarget, EchoTarget>();
            });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ANewKind_IsValidatedRoutedServedAndPriced()
    {
        using var response = await _gateway.Client.PostAsJsonAsync("/v1/chat/completions",
            new { model = "auto", messages = new[] { new { role = "user", content = "hi there, how are you today?" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("parrot", response.Headers.GetValues("x-gateway-route").Single());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("HI THERE, HOW ARE YOU TODAY?", body["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        // 6 words + 2 = 8 tokens in and 8 out, × $1000 per million.
        Assert.Equal("0.016", response.Headers.GetValues("x-gateway-cost-usd").Single());
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task TheKindsOwnValidation_ReportsAtItsPath_AndUnknownKindsListTheRegisteredOnes()
    {
        using var admin = _gateway.AdminClient();
        var draft = Policy.Replace("voice: loud", "voice: whisper", StringComparison.Ordinal).Replace("rules:", """
              ghost:
                kind: teleport
                model: x
                price: { input_per_mtok: 1, output_per_mtok: 1 }
            rules:
            """, StringComparison.Ordinal);

        using var response = await admin.PostAsync("/admin/policy/validate", new StringContent(draft, Encoding.UTF8, "application/yaml"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("routes.parrot.options.voice: 'whisper' is not one of loud, quiet", text, StringComparison.Ordinal);
        Assert.Contains("routes.ghost.kind: 'teleport' is not one of hosted, local, adapter, echo", text, StringComparison.Ordinal);
    }

    /// <summary>Answers with the last user message, upper-cased when its <c>options.voice</c> is loud.</summary>
    private sealed class EchoKind : IRouteKind
    {
        public string Name => "echo";

        public void Validate(string path, RouteDocument route, ICollection<string> errors)
        {
            if (Voice(route) is not ("loud" or "quiet"))
            {
                errors.Add($"{path}.options.voice: '{Voice(route)}' is not one of loud, quiet");
            }
        }

        public string? Target(RouteDocument route) => Voice(route);

        public string? Availability(RouteDocument route) => null;

        public bool InProcess(RouteDocument route) => true;

        private static string? Voice(RouteDocument route) => route.Options?.GetValueOrDefault("voice");
    }

    private sealed class EchoTarget : IRouteTarget
    {
        public string Kind => "echo";

        public async Task<RouteOutcome> ExecuteAsync(RouteInvocation invocation, CancellationToken cancellationToken)
        {
            var text = invocation.Request.Conversation.LastUserText();
            var answer = invocation.Route.Target == "loud" ? text.ToUpperInvariant() : text;
            var words = text.Split(' ').Length + 2;
            var usage = new Usage(words, words);
            invocation.UsageKnownBeforeHeaders?.Invoke(usage);
            var http = invocation.HttpContext;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsJsonAsync(new
            {
                id = "chatcmpl-echo",
                @object = "chat.completion",
                model = invocation.TargetModel,
                choices = new[] { new { index = 0, message = new { role = "assistant", content = answer }, finish_reason = "stop" } },
                usage = new { prompt_tokens = words, completion_tokens = words, total_tokens = 2 * words },
            }, cancellationToken);
            return new RouteOutcome { Status = 200, Usage = usage };
        }
    }
}
