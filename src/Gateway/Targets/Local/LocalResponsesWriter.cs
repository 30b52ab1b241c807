using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.OpenAi;
using Gateway.Routing;
using Gateway.Spend;

namespace Gateway.Targets.Local;

/// <summary>How a local generation is written back: the chat/completions shapes, or the Responses API's.</summary>
internal interface ILocalAnswerWriter
{
    bool Streaming { get; }

    Task ContentAsync(string text, CancellationToken cancellationToken);

    Task FinishAsync(string finishReason, Usage usage, CancellationToken cancellationToken);
}

/// <summary>
/// Writes a locally generated answer as the Responses API does: one <c>response</c> object with a single assistant
/// <c>message</c> item (status <c>incomplete</c> when <c>max_output_tokens</c> cut it short), or its typed events —
/// <c>response.created</c>, <c>response.in_progress</c>, <c>response.output_item.added</c>,
/// <c>response.content_part.added</c>, one <c>response.output_text.delta</c> per piece, the matching <c>.done</c>
/// events and <c>response.completed</c> (or <c>response.incomplete</c>) carrying the usage. Nothing is stored
/// (<c>store</c> is answered false): local routes keep no state.
/// </summary>
internal sealed class LocalResponsesWriter(HttpContext http, OpenAiRequest request, string model, TimeProvider timeProvider,
    IReadOnlyList<Retrieval.RetrievedChunk> sources) : ILocalAnswerWriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _id = "resp_" + GatewayRequestFeature.Of(http).RequestId;
    private readonly string _itemId = "msg_" + GatewayRequestFeature.Of(http).RequestId;
    private readonly long _created = timeProvider.GetUtcNow().ToUnixTimeSeconds();
    private readonly StringBuilder _text = new();
    private int _sequence;
    private bool _started;

    public bool Streaming { get; } = request.Stream;

    public async Task ContentAsync(string text, CancellationToken cancellationToken)
    {
        _text.Append(text);
        if (!Streaming)
        {
            return;
        }

        await StartAsync(cancellationToken);
        await EventAsync("response.output_text.delta", w =>
        {
            ItemPosition(w);
            w.WriteString("delta", text);
            w.WriteStartArray("logprobs");
            w.WriteEndArray();
        }, cancellationToken);
    }

    public async Task FinishAsync(string finishReason, Usage usage, CancellationToken cancellationToken)
    {
        var status = finishReason == "length" ? "incomplete" : "completed";
        if (!Streaming)
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/json";
            await using var json = new Utf8JsonWriter(http.Response.Body, WriterOptions);
            Response(json, status, usage, withOutput: true);
            await json.FlushAsync(cancellationToken);
            return;
        }

        await StartAsync(cancellationToken);
        var text = _text.ToString();
        await EventAsync("response.output_text.done", w =>
        {
            ItemPosition(w);
            w.WriteString("text", text);
            w.WriteStartArray("logprobs");
            w.WriteEndArray();
        }, cancellationToken);
        await EventAsync("response.content_part.done", w =>
        {
            ItemPosition(w);
            w.WritePropertyName("part");
            Part(w, text);
        }, cancellationToken);
        await EventAsync("response.output_item.done", w =>
        {
            w.WriteNumber("output_index", 0);
            w.WritePropertyName("item");
            Item(w, status, text);
        }, cancellationToken);
        await EventAsync(status == "completed" ? "response.completed" : "response.incomplete", w =>
        {
            w.WritePropertyName("response");
            Response(w, status, usage, withOutput: true);
        }, cancellationToken);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        LocalResponseWriter.BeginEventStream(http.Response);
        await EventAsync("response.created", w =>
        {
            w.WritePropertyName("response");
            Response(w, "in_progress", null, withOutput: false);
        }, cancellationToken);
        await EventAsync("response.in_progress", w =>
        {
            w.WritePropertyName("response");
            Response(w, "in_progress", null, withOutput: false);
        }, cancellationToken);
        await EventAsync("response.output_item.added", w =>
        {
            w.WriteNumber("output_index", 0);
            w.WritePropertyName("item");
            w.WriteStartObject();
            w.WriteString("id", _itemId);
            w.WriteString("type", "message");
            w.WriteString("status", "in_progress");
            w.WriteString("role", "assistant");
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteEndObject();
        }, cancellationToken);
        await EventAsync("response.content_part.added", w =>
        {
            ItemPosition(w);
            w.WritePropertyName("part");
            Part(w, "");
        }, cancellationToken);
    }

    /// <summary>One typed event: <c>event: type</c>, then its data with <c>type</c> and <c>sequence_number</c>.</summary>
    private async Task EventAsync(string type, Action<Utf8JsonWriter> body, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        buffer.Write(Encoding.UTF8.GetBytes($"event: {type}\ndata: "));
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteNumber("sequence_number", _sequence++);
            body(w);
            w.WriteEndObject();
        }

        buffer.Write("\n\n"u8);
        await http.Response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }

    private void ItemPosition(Utf8JsonWriter w)
    {
        w.WriteString("item_id", _itemId);
        w.WriteNumber("output_index", 0);
        w.WriteNumber("content_index", 0);
    }

    private static void Part(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteString("text", text);
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void Item(Utf8JsonWriter w, string status, string text)
    {
        w.WriteStartObject();
        w.WriteString("id", _itemId);
        w.WriteString("type", "message");
        w.WriteString("status", status);
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        Part(w, text);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The response object: the request's settings echoed as OpenAI does, the output, and the usage once known.</summary>
    private void Response(Utf8JsonWriter w, string status, Usage? usage, bool withOutput)
    {
        var root = request.Root;
        w.WriteStartObject();
        w.WriteString("id", _id);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", _created);
        w.WriteString("status", status);
        w.WriteNull("error");
        if (status == "incomplete")
        {
            w.WriteStartObject("incomplete_details");
            w.WriteString("reason", "max_output_tokens");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details");
        }

        Echo(w, root, "instructions");
        Echo(w, root, "max_output_tokens");
        w.WriteString("model", model);
        w.WriteStartArray("output");
        if (withOutput)
        {
            Item(w, status, _text.ToString());
        }

        w.WriteEndArray();
        w.WriteBoolean("parallel_tool_calls", true);
        w.WriteNull("previous_response_id");
        w.WriteBoolean("store", false);
        Echo(w, root, "temperature", 1);
        Echo(w, root, "top_p", 1);
        w.WriteString("tool_choice", "auto");
        w.WriteStartArray("tools");
        w.WriteEndArray();
        w.WriteStartObject("text");
        w.WriteStartObject("format");
        w.WriteString("type", "text");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("truncation", "disabled");
        if (usage is null)
        {
            w.WriteNull("usage");
        }
        else
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", usage.PromptTokens);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", 0);
            w.WriteEndObject();
            w.WriteNumber("output_tokens", usage.CompletionTokens);
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", 0);
            w.WriteEndObject();
            w.WriteNumber("total_tokens", usage.TotalTokens);
            w.WriteEndObject();
        }

        Echo(w, root, "user");
        if (root.TryGetProperty("metadata"u8, out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("metadata");
            metadata.WriteTo(w);
        }
        else
        {
            w.WriteStartObject("metadata");
            w.WriteEndObject();
        }

        LocalResponseWriter.WriteSources(w, sources);
        w.WriteEndObject();
    }

    private static void Echo(Utf8JsonWriter w, JsonElement root, string name, double? otherwise = null)
    {
        if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Undefined)
        {
            w.WritePropertyName(name);
            value.WriteTo(w);
        }
        else if (otherwise is { } number)
        {
            w.WriteNumber(name, number);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
