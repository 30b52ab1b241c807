using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// A real Kestrel server on 127.0.0.1 that speaks the OpenAI protocol (JSON and SSE), standing in
/// for a paid provider. Records what it received; tests can replace its behaviour per request.
/// </summary>
public sealed class FakeOpenAiUpstream : IAsyncDisposable
{
    public const string CompletionText = "Hello from the fake upstream.";

    private readonly WebApplication _app;

    private FakeOpenAiUpstream(WebApplication app) => _app = app;

    /// <summary>The base URL as configured in the gateway (<c>http://127.0.0.1:port/v1</c>).</summary>
    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>When set, answers instead of the default OpenAI imitation.</summary>
    public Func<HttpContext, ReceivedRequest, Task>? Handler { get; set; }

    public ReceivedRequest LastRequest => Received.Last();

    public static async Task<FakeOpenAiUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new FakeOpenAiUpstream(app);
        app.Run(upstream.HandleAsync);
        await app.StartAsync();
        upstream.BaseUrl = app.Urls.Single() + "/v1";
        return upstream;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var received = new ReceivedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            buffer.ToArray(),
            context.Request.QueryString.Value ?? "");
        Received.Enqueue(received);

        if (Handler is { } handler)
        {
            await handler(context, received);
            return;
        }

        var json = received.Json;
        if (context.Request.Path.StartsWithSegments("/v1/embeddings"))
        {
            await WriteJsonAsync(context, EmbeddingsBody(json["model"]!.GetValue<string>()));
        }
        else if (json["stream"]?.GetValue<bool>() == true)
        {
            var includeUsage = json["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
            await WriteSseAsync(context, StreamEvents(json["model"]!.GetValue<string>(), includeUsage));
        }
        else if (context.Request.Path.StartsWithSegments("/v1/completions"))
        {
            await WriteJsonAsync(context, CompletionBody(json["model"]!.GetValue<string>()));
        }
        else
        {
            await WriteJsonAsync(context, ChatBody(json["model"]!.GetValue<string>()));
        }
    }

    public static async Task WriteJsonAsync(HttpContext context, string body, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    public static async Task WriteSseAsync(HttpContext context, IEnumerable<string> events)
    {
        context.Response.ContentType = "text/event-stream";
        foreach (var evt in events)
        {
            await context.Response.WriteAsync(evt, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }

    public static string ChatBody(string model) =>
        $$$$"""{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"{{{{model}}}}","choices":[{"index":0,"message":{"role":"assistant","content":"{{{{CompletionText}}}}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200}}}""";

    public static string CompletionBody(string model) =>
        $$$$"""{"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"{{{{model}}}}","choices":[{"index":0,"text":"{{{{CompletionText}}}}","finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}""";

    public static string EmbeddingsBody(string model) =>
        $$$$"""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"{{{{model}}}}","usage":{"prompt_tokens":8,"total_tokens":8}}""";

    /// <summary>The events an OpenAI chat stream sends: a role chunk, content chunks, a finish chunk, optionally the usage chunk, [DONE].</summary>
    public static IReadOnlyList<string> StreamEvents(string model, bool includeUsage)
    {
        var usageField = includeUsage ? ",\"usage\":null" : "";
        var events = new List<string>
        {
            $$$$"""data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000000,"model":"{{{{model}}}}","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]{{{{usageField}}}}}""" + "\n\n",
        };
        foreach (var word in CompletionText.Split(' '))
        {
            events.Add($$$$"""data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000000,"model":"{{{{model}}}}","choices":[{"index":0,"delta":{"content":"{{{{word}}}} "},"finish_reason":null}]{{{{usageField}}}}}""" + "\n\n");
        }

        events.Add($$$$"""data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000000,"model":"{{{{model}}}}","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]{{{{usageField}}}}}""" + "\n\n");
        if (includeUsage)
        {
            events.Add($$$$"""data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000000,"model":"{{{{model}}}}","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":7,"total_tokens":47}}""" + "\n\n");
        }

        events.Add("data: [DONE]\n\n");
        return events;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request as the upstream saw it.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, string Query = "")
{
    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("empty body");

    public string BodyText => Encoding.UTF8.GetString(Body);
}
