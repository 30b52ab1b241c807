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

        if (context.Request.Path.StartsWithSegments("/v1/responses"))
        {
            await HandleResponsesAsync(context, received);
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

    /// <summary>Responses this upstream created and still stores, by id (what GET /v1/responses/{id} answers).</summary>
    public ConcurrentDictionary<string, string> StoredResponses { get; } = new();

    private int _responseCount;

    /// <summary>Usage every imitated response reports.</summary>
    public const int ResponseInputTokens = 1000, ResponseCachedTokens = 100, ResponseOutputTokens = 250, ResponseReasoningTokens = 50;

    /// <summary>The Responses API: create (JSON or typed events), retrieve, delete; a follow-up needs a response stored here.</summary>
    private async Task HandleResponsesAsync(HttpContext context, ReceivedRequest received)
    {
        var id = context.Request.Path.Value!["/v1/responses".Length..].Trim('/');
        if (id.Length > 0)
        {
            if (!StoredResponses.TryGetValue(id.Split('/')[0], out var stored))
            {
                await WriteJsonAsync(context, ErrorBody($"Response with id '{id}' not found.", null, null), 404);
            }
            else if (HttpMethods.IsDelete(context.Request.Method))
            {
                StoredResponses.TryRemove(id, out _);
                await WriteJsonAsync(context, $$"""{"id":"{{id}}","object":"response.deleted","deleted":true}""");
            }
            else
            {
                await WriteJsonAsync(context, stored);
            }

            return;
        }

        var json = received.Json;
        if (json["previous_response_id"]?.GetValue<string>() is { } previous && !StoredResponses.ContainsKey(previous))
        {
            await WriteJsonAsync(context, ErrorBody($"Previous response with id '{previous}' not found.", "previous_response_id", "previous_response_not_found"), 400);
            return;
        }

        var model = json["model"]!.GetValue<string>();
        var responseId = $"resp_fake_{Interlocked.Increment(ref _responseCount)}";
        var completed = ResponseObject(responseId, model, "completed", withOutput: true);
        if (json["store"]?.GetValue<bool>() != false)
        {
            StoredResponses[responseId] = completed;
        }

        if (json["stream"]?.GetValue<bool>() == true)
        {
            await WriteSseAsync(context, ResponseEvents(responseId, model));
        }
        else
        {
            await WriteJsonAsync(context, completed);
        }
    }

    public static string ResponseObject(string id, string model, string status, bool withOutput) =>
        ResponseNode(id, model, status, withOutput).ToJsonString();

    private static JsonObject ResponseNode(string id, string model, string status, bool withOutput) => new()
    {
        ["id"] = id,
        ["object"] = "response",
        ["created_at"] = 1700000000,
        ["status"] = status,
        ["error"] = null,
        ["incomplete_details"] = null,
        ["instructions"] = null,
        ["max_output_tokens"] = null,
        ["model"] = model,
        ["output"] = withOutput ? new JsonArray(MessageItem("completed", CompletionText)) : new JsonArray(),
        ["parallel_tool_calls"] = true,
        ["previous_response_id"] = null,
        ["store"] = true,
        ["temperature"] = 1.0,
        ["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
        ["tool_choice"] = "auto",
        ["tools"] = new JsonArray(),
        ["top_p"] = 1.0,
        ["truncation"] = "disabled",
        ["usage"] = withOutput
            ? new JsonObject
            {
                ["input_tokens"] = ResponseInputTokens,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = ResponseCachedTokens },
                ["output_tokens"] = ResponseOutputTokens,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = ResponseReasoningTokens },
                ["total_tokens"] = ResponseInputTokens + ResponseOutputTokens,
            }
            : null,
        ["user"] = null,
        ["metadata"] = new JsonObject(),
    };

    private static JsonObject OutputText(string text) =>
        new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() };

    private static JsonObject MessageItem(string status, string? text) => new()
    {
        ["type"] = "message",
        ["id"] = "msg_1",
        ["status"] = status,
        ["role"] = "assistant",
        ["content"] = text is null ? new JsonArray() : new JsonArray(OutputText(text)),
    };

    /// <summary>The typed events of a Responses stream, as OpenAI sends them (no [DONE]).</summary>
    public static IReadOnlyList<string> ResponseEvents(string id, string model)
    {
        var sequence = 0;
        string Event(string type, JsonObject fields)
        {
            var body = new JsonObject { ["type"] = type, ["sequence_number"] = sequence++ };
            foreach (var (key, value) in fields)
            {
                body[key] = value?.DeepClone();
            }

            return $"event: {type}\ndata: {body.ToJsonString()}\n\n";
        }

        JsonObject Part(int index) => new() { ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = index };
        var events = new List<string>
        {
            Event("response.created", new JsonObject { ["response"] = ResponseNode(id, model, "in_progress", withOutput: false) }),
            Event("response.in_progress", new JsonObject { ["response"] = ResponseNode(id, model, "in_progress", withOutput: false) }),
            Event("response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = MessageItem("in_progress", null) }),
            Event("response.content_part.added", Add(Part(0), "part", OutputText(""))),
        };
        foreach (var word in CompletionText.Split(' '))
        {
            events.Add(Event("response.output_text.delta", Add(Part(0), "delta", word + " ")));
        }

        events.Add(Event("response.output_text.done", Add(Part(0), "text", CompletionText)));
        events.Add(Event("response.content_part.done", Add(Part(0), "part", OutputText(CompletionText))));
        events.Add(Event("response.output_item.done", new JsonObject { ["output_index"] = 0, ["item"] = MessageItem("completed", CompletionText) }));
        events.Add(Event("response.completed", new JsonObject { ["response"] = ResponseNode(id, model, "completed", withOutput: true) }));
        return events;
    }

    private static string ErrorBody(string message, string? param, string? code) => new JsonObject
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = param, ["code"] = code },
    }.ToJsonString();

    private static JsonObject Add(JsonObject target, string key, JsonNode value)
    {
        target[key] = value;
        return target;
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
