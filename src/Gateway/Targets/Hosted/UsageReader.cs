using System.Text.Json;
using Gateway.Spend;

namespace Gateway.Targets.Hosted;

/// <summary>Reads the OpenAI <c>usage</c> object out of a response or stream chunk without building a DOM.</summary>
internal static class UsageReader
{
    /// <summary>
    /// Finds the top-level <c>usage</c> object in <paramref name="json"/>. <paramref name="choicesEmpty"/>
    /// tells whether the document's <c>choices</c> array is present and empty (the shape of the final
    /// usage chunk of a stream).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out Usage? usage, out bool choicesEmpty)
    {
        usage = null;
        choicesEmpty = false;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("response"u8))
                {
                    // A Responses stream event (response.completed, .incomplete, .failed): the usage is the response's.
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        usage = ReadNestedUsage(ref reader) ?? usage;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        usage = ReadUsage(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        reader.Read();
                        choicesEmpty = reader.TokenType == JsonTokenType.EndArray;
                        if (!choicesEmpty)
                        {
                            SkipRestOfArray(ref reader);
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON we understand: no usage, and the bytes still pass through untouched.
            return false;
        }

        return usage is not null;
    }

    /// <summary>The <c>usage</c> of the object the reader is on (positioned on its start); the reader ends on its end.</summary>
    private static Usage? ReadNestedUsage(ref Utf8JsonReader reader)
    {
        Usage? usage = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    usage = ReadUsage(ref reader);
                    continue;
                }
            }
            else
            {
                reader.Read();
            }

            reader.Skip();
        }

        return usage;
    }

    /// <summary>
    /// The id of a Responses API response: the top-level <c>id</c> of a response object (<c>"object":"response"</c>),
    /// or <c>response.id</c> of a stream event. Null for anything else.
    /// </summary>
    public static string? ReadResponseId(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? id = null;
            var isResponse = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("object"u8))
                {
                    reader.Read();
                    isResponse = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("response"u8);
                }
                else if (reader.ValueTextEquals("response"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("id"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                            {
                                return reader.GetString();
                            }

                            reader.Read();
                            reader.Skip();
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return isResponse ? id : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Appends the generated text of a response or stream chunk: <c>choices[].message.content</c>,
    /// <c>choices[].delta.content</c> or <c>choices[].text</c>, tool-call arguments, and a Responses body's
    /// <c>output[].content[].text</c>. A Responses stream event adds only its <c>delta</c> (text, refusal or
    /// function-call arguments): the other events repeat text already counted.
    /// </summary>
    public static void AppendCompletionText(ReadOnlySpan<byte> json, System.Text.StringBuilder text)
    {
        if (ResponsesEventDelta(json, out var isEvent) is { } delta)
        {
            text.Append(delta);
            return;
        }

        if (isEvent)
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName
                    && (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("arguments"u8)))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        text.Append(reader.GetString());
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON ([DONE], or a broken chunk): nothing to count.
        }
    }

    /// <summary>A Responses stream event's top-level <c>type</c> and text <c>delta</c>.</summary>
    private static string? ResponsesEventDelta(ReadOnlySpan<byte> json, out bool isEvent)
    {
        isEvent = false;
        if (json.IndexOf("\"type\""u8) < 0 || json.IndexOf("\"response."u8) < 0)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? delta = null;
            var textDelta = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    var type = reader.TokenType == JsonTokenType.String ? reader.GetString()! : "";
                    isEvent = type.StartsWith("response.", StringComparison.Ordinal);
                    textDelta = type is "response.output_text.delta" or "response.refusal.delta" or "response.function_call_arguments.delta";
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    delta = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return isEvent && textDelta ? delta : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void SkipRestOfArray(ref Utf8JsonReader reader)
    {
        // Positioned on the first element; skip it and its siblings.
        while (reader.TokenType != JsonTokenType.EndArray)
        {
            reader.Skip();
            reader.Read();
        }
    }

    /// <summary>
    /// More tokens than any model's context holds in one request: a provider reporting this is broken, and pricing it
    /// would put thousands of dollars on one ledger row.
    /// </summary>
    public const int MaxPlausibleTokens = 10_000_000;

    /// <summary>The usage object, or null when a count is negative or implausible (then the gateway counts the tokens itself).</summary>
    private static Usage? ReadUsage(ref Utf8JsonReader reader)
    {
        int prompt = 0, completion = 0, cached = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
            {
                prompt = ReadInt(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
            {
                completion = ReadInt(ref reader);
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("cached_tokens"u8))
                    {
                        cached = ReadInt(ref reader);
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return prompt is < 0 or > MaxPlausibleTokens || completion is < 0 or > MaxPlausibleTokens || cached < 0
            ? null
            : new Usage(prompt, completion, Math.Min(cached, prompt));
    }

    private static int ReadInt(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : 0;
    }
}
