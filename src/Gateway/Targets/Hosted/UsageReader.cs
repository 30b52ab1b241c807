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
                if (reader.ValueTextEquals("usage"u8))
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

    /// <summary>
    /// Appends the generated text of a response or stream chunk: <c>choices[].message.content</c>,
    /// <c>choices[].delta.content</c> or <c>choices[].text</c>, and tool-call arguments.
    /// </summary>
    public static void AppendCompletionText(ReadOnlySpan<byte> json, System.Text.StringBuilder text)
    {
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
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
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
