using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Gateway.OpenAi;

/// <summary>What routing reads of a request, without its text: small enough to keep on the ledger and replay.</summary>
/// <param name="FollowUp">The request continues state kept by the provider that served an earlier one (Responses
/// <c>previous_response_id</c> or <c>conversation</c>): only a hosted route can serve it.</param>
public readonly record struct RequestShape(OpenAiOperation Operation, string Model, bool Stream, bool HasTools, int? MaxTokens, int Choices, int BodyLength,
    bool FollowUp = false);

/// <summary>
/// A parsed OpenAI request: the facts the gateway routes on, plus the raw JSON so that every field
/// the gateway does not know reaches the provider untouched.
/// </summary>
public sealed class OpenAiRequest : IDisposable
{
    /// <summary>The model name that lets the policy choose.</summary>
    public const string AutoModel = "auto";

    private readonly JsonDocument _document;

    // The buffer the document reads, when this request owns it (ParseOwned): returned with the document.
    private IDisposable? _body;

    private OpenAiRequest(OpenAiOperation operation, JsonDocument document, int bodyLength)
    {
        Operation = operation;
        _document = document;
        BodyLength = bodyLength;
    }

    public OpenAiOperation Operation { get; }

    /// <summary>The requested model; <see cref="AutoModel"/> when the client sent none.</summary>
    public string Model { get; private init; } = AutoModel;

    public bool Stream { get; private init; }

    /// <summary>Whether the client itself asked for <c>stream_options.include_usage</c>.</summary>
    public bool ClientWantsStreamUsage { get; private init; }

    /// <summary>
    /// Whether the gateway asks the provider for <c>stream_options.include_usage</c> the client did not ask for (and so
    /// drops the usage-only chunk on the way back). Responses streams always end with usage, in <c>response.completed</c>.
    /// </summary>
    public bool GatewayAddsStreamUsage => Stream && !ClientWantsStreamUsage && Operation != OpenAiOperation.Responses;

    /// <summary><c>max_completion_tokens</c>, else <c>max_tokens</c> (at least 1 when present).</summary>
    public int? MaxTokens { get; private init; }

    /// <summary>
    /// How many completions one call asks for and pays: <c>n</c> (1 to 128), or for legacy completions the larger of
    /// <c>n</c> and <c>best_of</c> (the provider generates and bills every candidate).
    /// </summary>
    public int Choices { get; private init; } = 1;

    public bool HasTools { get; private init; }

    public int BodyLength { get; }

    /// <summary>Responses API: the <c>previous_response_id</c> this request continues, if any.</summary>
    public string? PreviousResponseId { get; private init; }

    /// <summary>The end user the client names (OpenAI's <c>user</c>), for attribution on the ledger; at most 256 characters kept.</summary>
    public string? EndUser { get; private init; }

    /// <summary>The request's <c>metadata</c> object as JSON (at most 16 entries, as OpenAI allows), for the ledger; null when absent.</summary>
    public string? Metadata { get; private init; }

    /// <summary>Responses API: continues a provider-side conversation (<c>previous_response_id</c> or <c>conversation</c>).</summary>
    public bool FollowUp { get; private init; }

    /// <summary>The facts routing reads (see <see cref="RequestShape"/>).</summary>
    public RequestShape Shape => new(Operation, Model, Stream, HasTools, MaxTokens, Choices, BodyLength, FollowUp);

    /// <summary>The root JSON object, for components that read fields beyond the conversation (sampling settings).</summary>
    public JsonElement Root => _document.RootElement;

    private Conversation? _conversation;

    /// <summary>The conversation, read once (on first use) for every consumer.</summary>
    public Conversation Conversation => _conversation ??= Conversation.Read(Operation, Root);

    /// <summary>
    /// Parses and validates a request body. Validation covers what the gateway needs to route;
    /// everything else is the provider's to judge.
    /// </summary>
    /// <exception cref="OpenAiException">400 for malformed JSON or a missing required field.</exception>
    public static OpenAiRequest Parse(OpenAiOperation operation, ReadOnlyMemory<byte> body)
    {
        var document = JsonBody.Parse(body, maxDepth: 128);
        try
        {
            return Create(operation, document, body.Length);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="Parse(OpenAiOperation, ReadOnlyMemory{byte})"/> of a body this request then owns: disposing the
    /// request (or a parse that fails) disposes the body, after which nothing may read the document.
    /// </summary>
    public static OpenAiRequest ParseOwned(OpenAiOperation operation, RequestBody body)
    {
        try
        {
            var request = Parse(operation, body.Memory);
            request._body = body;
            return request;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="OpenAiOperation.Responses"/> for a body whose top level has <c>input</c> or <c>instructions</c> and no
    /// <c>messages</c>; otherwise <see cref="OpenAiOperation.ChatCompletions"/> (whose validation then reports what is wrong).
    /// </summary>
    public static OpenAiOperation ChatOrResponses(ReadOnlySpan<byte> body)
    {
        var responses = false;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return OpenAiOperation.ChatCompletions;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("messages"u8))
                {
                    return OpenAiOperation.ChatCompletions;
                }

                responses |= reader.ValueTextEquals("input"u8) || reader.ValueTextEquals("instructions"u8);
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Parse reports it.
        }

        return responses ? OpenAiOperation.Responses : OpenAiOperation.ChatCompletions;
    }

    private static OpenAiRequest Create(OpenAiOperation operation, JsonDocument document, int length)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw OpenAiErrors.InvalidJson($"the top-level value is {Describe(root.ValueKind)}, not an object");
        }

        var model = AutoModel;
        if (root.TryGetProperty("model", out var modelElement) && modelElement.ValueKind != JsonValueKind.Null)
        {
            if (modelElement.ValueKind != JsonValueKind.String || modelElement.GetString() is not { Length: > 0 } m)
            {
                throw OpenAiErrors.InvalidParameter("model", "'model' must be a non-empty string.");
            }

            model = m;
        }

        switch (operation)
        {
            case OpenAiOperation.ChatCompletions:
                ValidateMessages(root);
                break;
            case OpenAiOperation.Completions:
                RequireKinds(root, "prompt", JsonValueKind.String, JsonValueKind.Array);
                break;
            case OpenAiOperation.Embeddings:
                RequireKinds(root, "input", JsonValueKind.String, JsonValueKind.Array);
                break;
            case OpenAiOperation.Responses:
                ValidateResponsesInput(root);
                break;
        }

        var previous = operation == OpenAiOperation.Responses ? ReadOptionalString(root, "previous_response_id") : null;

        var stream = ReadBool(root, "stream");
        var includeUsage = root.TryGetProperty("stream_options", out var options)
                           && options.ValueKind == JsonValueKind.Object
                           && ReadBool(options, "include_usage");

        return new OpenAiRequest(operation, document, length)
        {
            Model = model,
            Stream = stream,
            ClientWantsStreamUsage = stream && includeUsage,
            MaxTokens = operation == OpenAiOperation.Responses
                ? ReadCount(root, "max_output_tokens", int.MaxValue)
                : ReadCount(root, "max_completion_tokens", int.MaxValue) ?? ReadCount(root, "max_tokens", int.MaxValue),
            PreviousResponseId = previous,
            EndUser = root.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String && user.GetString() is { Length: > 0 } who
                ? who.Length > 256 ? who[..256] : who
                : null,
            Metadata = root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object && metadata.EnumerateObject().Any()
                ? ReadMetadata(metadata)
                : null,
            FollowUp = previous is not null
                       || (operation == OpenAiOperation.Responses && root.TryGetProperty("conversation", out var conversation)
                           && conversation.ValueKind is JsonValueKind.String or JsonValueKind.Object),
            Choices = operation is OpenAiOperation.Embeddings or OpenAiOperation.Responses ? 1
                : Math.Max(ReadCount(root, "n", MaxChoices) ?? 1,
                    operation == OpenAiOperation.Completions ? ReadCount(root, "best_of", MaxChoices) ?? 1 : 1),
            HasTools = root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array
                       && tools.GetArrayLength() > 0,
        };
    }

    private static void ValidateMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind == JsonValueKind.Null)
        {
            throw OpenAiErrors.MissingParameter("messages");
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw OpenAiErrors.InvalidParameter("messages", "'messages' must be an array of message objects.");
        }

        if (messages.GetArrayLength() == 0)
        {
            throw OpenAiErrors.InvalidParameter("messages", "'messages' must contain at least one message.");
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                throw OpenAiErrors.InvalidParameter($"messages[{index}]",
                    $"'messages[{index}]' must be an object with a string 'role'.");
            }

            index++;
        }
    }

    /// <summary>
    /// <c>input</c>: a string or a list of items (each an object); it may be left out only when the request continues
    /// an earlier response or conversation, or names a stored prompt. <c>instructions</c>: a string when present.
    /// </summary>
    private static void ValidateResponsesInput(JsonElement root)
    {
        if (root.TryGetProperty("input", out var input) && input.ValueKind != JsonValueKind.Null)
        {
            if (input.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object)
                    {
                        throw OpenAiErrors.InvalidParameter($"input[{index}]",
                            $"Invalid 'input[{index}]': expected an input item object, but got {Describe(item)} instead.");
                    }

                    index++;
                }
            }
            else if (input.ValueKind != JsonValueKind.String)
            {
                throw OpenAiErrors.InvalidParameter("input", $"Invalid 'input': expected a string or an array of input items, but got {Describe(input)} instead.");
            }
        }
        else if (!root.TryGetProperty("previous_response_id", out _) && !root.TryGetProperty("conversation", out _) && !root.TryGetProperty("prompt", out _))
        {
            throw OpenAiErrors.MissingParameter("input");
        }

        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
        {
            throw OpenAiErrors.InvalidParameter("instructions", $"Invalid 'instructions': expected a string, but got {Describe(instructions)} instead.");
        }
    }

    /// <summary>
    /// <c>metadata</c> as OpenAI defines it: at most 16 pairs, keys up to 64 characters, string values up to 512. What breaks
    /// that is a 400 here (the provider would refuse it too, after the gateway had spent a routing decision on it).
    /// </summary>
    private static string ReadMetadata(JsonElement metadata)
    {
        var count = 0;
        foreach (var pair in metadata.EnumerateObject())
        {
            if (++count > 16 || pair.Name.Length > 64 || pair.Value.ValueKind != JsonValueKind.String || pair.Value.GetString()!.Length > 512)
            {
                throw OpenAiErrors.InvalidParameter("metadata",
                    "Invalid 'metadata': at most 16 pairs, keys up to 64 characters and string values up to 512.");
            }
        }

        return metadata.GetRawText();
    }

    private static string? ReadOptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw OpenAiErrors.InvalidParameter(name, $"Invalid '{name}': expected a non-empty string, but got {Describe(value)} instead.");
    }

    private static void RequireKinds(JsonElement root, string name, JsonValueKind first, JsonValueKind second)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw OpenAiErrors.MissingParameter(name);
        }

        if (value.ValueKind != first && value.ValueKind != second)
        {
            throw OpenAiErrors.InvalidParameter(name, $"'{name}' must be a string or an array.");
        }
    }

    private static bool ReadBool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>OpenAI's own limit on <c>n</c> and <c>best_of</c>.</summary>
    public const int MaxChoices = 128;

    /// <summary>
    /// A count the gateway prices the request by: absent or null, else an integer from 1 to <paramref name="max"/>.
    /// Anything else is refused rather than guessed, since a negative or unread count would let a request through a
    /// budget on an estimate it will not keep to.
    /// </summary>
    private static int? ReadCount(JsonElement obj, string name, int max)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n))
        {
            throw new OpenAiException(400, $"Invalid type for '{name}': expected an integer, but got {Describe(value)} instead.",
                OpenAiErrors.InvalidRequest, "invalid_type", name);
        }

        if (n < 1)
        {
            throw new OpenAiException(400, $"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {n} instead.",
                OpenAiErrors.InvalidRequest, "integer_below_min_value", name);
        }

        if (n > max)
        {
            throw new OpenAiException(400, $"Invalid '{name}': integer above maximum value. Expected a value <= {max}, but got {n} instead.",
                OpenAiErrors.InvalidRequest, "integer_above_max_value", name);
        }

        return (int)n;
    }

    private static string Describe(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? "a decimal number" : Describe(value.ValueKind);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    /// <summary>
    /// Writes the body sent upstream: the client's JSON with <c>model</c> set to <paramref name="targetModel"/>
    /// and, for streams, <c>stream_options.include_usage</c> forced on so spend can be accounted.
    /// Every other property is copied as the client sent it, in order.
    /// </summary>
    public void WriteUpstreamBody(IBufferWriter<byte> output, string targetModel)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        var forceUsage = GatewayAddsStreamUsage;
        var wroteModel = false;
        var wroteOptions = false;

        writer.WriteStartObject();
        foreach (var property in Root.EnumerateObject())
        {
            if (property.NameEquals("model"))
            {
                writer.WriteString("model", targetModel);
                wroteModel = true;
            }
            else if (forceUsage && property.NameEquals("stream_options") && property.Value.ValueKind == JsonValueKind.Object)
            {
                writer.WriteStartObject("stream_options");
                foreach (var option in property.Value.EnumerateObject())
                {
                    if (!option.NameEquals("include_usage"))
                    {
                        option.WriteTo(writer);
                    }
                }

                writer.WriteBoolean("include_usage", true);
                writer.WriteEndObject();
                wroteOptions = true;
            }
            else if (forceUsage && property.NameEquals("stream_options"))
            {
                // null or a malformed value: replaced below by a valid object.
            }
            else
            {
                // The client's bytes as they came (validated when parsed): no unescaping and escaping again, which for a
                // long string with escapes took a buffer six times its length.
                writer.WritePropertyName(property.Name);
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(property.Value), skipInputValidation: true);
            }
        }

        if (!wroteModel)
        {
            writer.WriteString("model", targetModel);
        }

        if (forceUsage && !wroteOptions)
        {
            writer.WriteStartObject("stream_options");
            writer.WriteBoolean("include_usage", true);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    public void Dispose()
    {
        _document.Dispose();
        _body?.Dispose();
    }
}
