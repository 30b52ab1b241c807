using System.Buffers;
using System.Text.Json;
using Gateway.OpenAi;
using Gateway.Routing;
using Gateway.Spend;

namespace Gateway.Targets.Local;

/// <summary>
/// Writes a locally generated answer in the exact OpenAI shapes: a <c>chat.completion</c> (or
/// <c>text_completion</c>) JSON document with usage, or SSE chunks, one per token, a final chunk
/// with the finish reason, the usage chunk when the client asked for it, and <c>[DONE]</c>.
/// </summary>
internal sealed class LocalResponseWriter(HttpContext http, OpenAiRequest request, string model, TimeProvider timeProvider,
    IReadOnlyList<Gateway.Retrieval.RetrievedChunk> sources) : ILocalAnswerWriter
{
    private readonly bool _chat = request.Operation == OpenAiOperation.ChatCompletions;
    private readonly string _id = (request.Operation == OpenAiOperation.ChatCompletions ? "chatcmpl-" : "cmpl-") + GatewayRequestFeature.Of(http).RequestId;
    private readonly long _created = timeProvider.GetUtcNow().ToUnixTimeSeconds();
    private readonly System.Text.StringBuilder _text = new();
    private bool _started;

    public bool Streaming { get; } = request.Stream;

    public async Task ContentAsync(string text, CancellationToken cancellationToken)
    {
        if (!Streaming)
        {
            _text.Append(text);
            return;
        }

        await StartAsync(cancellationToken);
        await ChunkAsync(w => Choice(w, text, finish: null), cancellationToken);
    }

    public async Task FinishAsync(string finishReason, Usage usage, CancellationToken cancellationToken)
    {
        if (Streaming)
        {
            await StartAsync(cancellationToken);
            await ChunkAsync(w =>
            {
                Choice(w, null, finishReason);
                WriteSources(w); // on the finish chunk: an extra field SDKs ignore
            }, cancellationToken);
            if (request.ClientWantsStreamUsage)
            {
                await ChunkAsync(w =>
                {
                    w.WriteStartArray("choices");
                    w.WriteEndArray();
                }, cancellationToken, usage);
            }

            await http.Response.WriteAsync("data: [DONE]\n\n", cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
            return;
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(http.Response.Body);
        json.WriteStartObject();
        Envelope(json, _chat ? "chat.completion" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (_chat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", _text.ToString());
            json.WriteNull("refusal");
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", _text.ToString());
        }

        json.WriteNull("logprobs");
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
        WriteSources(json);
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        LocalResponseWriter.BeginEventStream(http.Response);
        if (_chat)
        {
            // OpenAI's first chunk carries the role.
            await ChunkAsync(w =>
            {
                w.WriteStartArray("choices");
                w.WriteStartObject();
                w.WriteNumber("index", 0);
                w.WriteStartObject("delta");
                w.WriteString("role", "assistant");
                w.WriteString("content", "");
                w.WriteEndObject();
                w.WriteNull("logprobs");
                w.WriteNull("finish_reason");
                w.WriteEndObject();
                w.WriteEndArray();
            }, cancellationToken);
        }
    }

    private void Choice(Utf8JsonWriter w, string? text, string? finish)
    {
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (_chat)
        {
            w.WriteStartObject("delta");
            if (text is not null)
            {
                w.WriteString("content", text);
            }

            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text ?? "");
        }

        w.WriteNull("logprobs");
        if (finish is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finish);
        }

        w.WriteEndObject();
        w.WriteEndArray();
    }

    private async Task ChunkAsync(Action<Utf8JsonWriter> body, CancellationToken cancellationToken, Usage? usage = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            Envelope(w, _chat ? "chat.completion.chunk" : "text_completion");
            body(w);
            if (usage is not null)
            {
                WriteUsage(w, usage);
            }
            else if (request.ClientWantsStreamUsage)
            {
                w.WriteNull("usage");
            }

            w.WriteEndObject();
        }

        buffer.Write("\n\n"u8);
        await http.Response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }

    private void Envelope(Utf8JsonWriter w, string type)
    {
        w.WriteString("id", _id);
        w.WriteString("object", type);
        w.WriteNumber("created", _created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "gateway-local");
    }

    private void WriteSources(Utf8JsonWriter w) => WriteSources(w, sources);

    /// <summary>The status and headers of a server-sent event stream, written before its first event.</summary>
    internal static void BeginEventStream(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
    }

    /// <summary>An extra field: OpenAI SDKs ignore it, RAG-aware clients read where the answer came from.</summary>
    public static void WriteSources(Utf8JsonWriter w, IReadOnlyList<Gateway.Retrieval.RetrievedChunk> sources)
    {
        if (sources.Count == 0)
        {
            return;
        }

        w.WriteStartArray("sources");
        foreach (var source in sources)
        {
            w.WriteStartObject();
            w.WriteString("id", source.Chunk.DocumentId);
            w.WriteNumber("chunk", source.Chunk.Ordinal);
            w.WriteString("title", source.Chunk.Title);
            w.WriteString("source", source.Chunk.Source);
            w.WriteNumber("score", Math.Round(source.Score, 4));
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteUsage(Utf8JsonWriter w, Usage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.PromptTokens);
        w.WriteNumber("completion_tokens", usage.CompletionTokens);
        w.WriteNumber("total_tokens", usage.TotalTokens);
        w.WriteEndObject();
    }
}
