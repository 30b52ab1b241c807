using System.Text;
using System.Text.Json;

namespace Gateway.OpenAi;

/// <summary>One turn of a conversation: a normalised role and its content (a JSON string, or an array of parts).</summary>
/// <param name="Role"><c>system</c> (also for <c>developer</c> and Responses <c>instructions</c>), <c>user</c>,
/// <c>assistant</c> (also a Responses <c>function_call</c>), <c>tool</c> (also a <c>function_call_output</c>), or as sent.</param>
/// <param name="Content">The turn's content as sent: a string, an array of parts, or undefined when it has none.</param>
public readonly record struct Turn(string Role, JsonElement Content)
{
    public bool IsUser => Role == Conversation.User;

    public bool IsSystem => Role == Conversation.System;

    /// <summary>The turn's text parts joined by newlines.</summary>
    public string Text() => MessageContent.Text(Content);
}

/// <summary>
/// The conversation of an OpenAI request, read once for every consumer (classification, retrieval, local generation,
/// token estimates): chat <c>messages</c>, Responses <c>instructions</c> + <c>input</c>, a completion's <c>prompt</c>.
/// Text stays in the request's JSON (no copies): consumers read it through <see cref="MessageContent"/>.
/// Reading never fails: odd shapes (already refused or tolerated by the request's validation) read as fewer turns.
/// </summary>
public sealed class Conversation
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Tool = "tool";

    public static Conversation Empty { get; } = new([], nonTextParts: 0, isPrompt: false);

    private Conversation(IReadOnlyList<Turn> turns, int nonTextParts, bool isPrompt)
    {
        Turns = turns;
        NonTextParts = nonTextParts;
        IsPrompt = isPrompt;
        // A batch of prompts is routed (and served locally) as its first, as before batches were read at all.
        for (var i = isPrompt ? Math.Min(turns.Count - 1, 0) : turns.Count - 1; i >= 0; i--)
        {
            if (turns[i].IsUser)
            {
                LastUserIndex = i;
                break;
            }
        }
    }

    public IReadOnlyList<Turn> Turns { get; }

    /// <summary>Index of the last user turn (for a batch of completion prompts, the first); -1 when there is none.</summary>
    public int LastUserIndex { get; } = -1;

    /// <summary>The last user turn's content (undefined when there is none).</summary>
    public JsonElement LastUserContent => LastUserIndex >= 0 ? Turns[LastUserIndex].Content : default;

    /// <summary>The last user turn's text parts joined by newlines; empty when there is none.</summary>
    public string LastUserText() => LastUserIndex >= 0 ? Turns[LastUserIndex].Text() : "";

    public bool HasSystem => Turns.Count > 0 && Turns[0].IsSystem;

    /// <summary>Parts that are not text (images, audio, files) across every turn.</summary>
    public int NonTextParts { get; }

    /// <summary>A bare completion prompt (legacy <c>/v1/completions</c>), not a chat.</summary>
    public bool IsPrompt { get; }

    /// <summary>Reads the conversation of a request to <paramref name="operation"/>.</summary>
    public static Conversation Read(OpenAiOperation operation, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Empty;
        }

        return operation switch
        {
            OpenAiOperation.ChatCompletions => FromMessages(root),
            OpenAiOperation.Responses => FromResponsesInput(root),
            OpenAiOperation.Completions => FromPrompt(root, "prompt"u8),
            OpenAiOperation.Embeddings => FromPrompt(root, "input"u8),
            _ => Empty,
        };
    }

    /// <summary>Reads whichever shape <paramref name="root"/> has: <c>messages</c>, else <c>input</c> (Responses), else <c>prompt</c>.</summary>
    public static Conversation Read(JsonElement root) =>
        root.ValueKind != JsonValueKind.Object ? Empty
        : root.TryGetProperty("messages"u8, out _) ? FromMessages(root)
        : root.TryGetProperty("input"u8, out _) || root.TryGetProperty("instructions"u8, out _) ? FromResponsesInput(root)
        : FromPrompt(root, "prompt"u8);

    private static Conversation FromMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return Empty;
        }

        var turns = new List<Turn>(messages.GetArrayLength());
        var nonText = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var content = message.TryGetProperty("content"u8, out var c) ? c : default;
            nonText += MessageContent.NonTextParts(content);
            turns.Add(new Turn(Role(message), content));
        }

        return new Conversation(turns, nonText, isPrompt: false);
    }

    /// <summary>Responses API: <c>instructions</c> as the system turn, then <c>input</c> (a string, or a list of items).</summary>
    private static Conversation FromResponsesInput(JsonElement root)
    {
        var turns = new List<Turn>();
        var nonText = 0;
        if (root.TryGetProperty("instructions"u8, out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            turns.Add(new Turn(System, instructions));
        }

        if (root.TryGetProperty("input"u8, out var input))
        {
            if (input.ValueKind == JsonValueKind.String)
            {
                turns.Add(new Turn(User, input));
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in input.EnumerateArray())
                {
                    if (Item(item) is { } turn)
                    {
                        nonText += MessageContent.NonTextParts(turn.Content);
                        turns.Add(turn);
                    }
                }
            }
        }

        return new Conversation(turns, nonText, isPrompt: false);
    }

    /// <summary>One Responses input item as a turn: a message (typed or not), a function call, or its output; others carry no text.</summary>
    private static Turn? Item(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var type = item.TryGetProperty("type"u8, out var t) && t.ValueKind == JsonValueKind.String ? t : default;
        if (type.ValueKind == JsonValueKind.Undefined || type.ValueEquals("message"u8))
        {
            return item.TryGetProperty("role"u8, out _)
                ? new Turn(Role(item), item.TryGetProperty("content"u8, out var content) ? content : default)
                : null;
        }

        if (type.ValueEquals("function_call"u8) || type.ValueEquals("custom_tool_call"u8))
        {
            return new Turn(Assistant, item.TryGetProperty("arguments"u8, out var arguments) ? arguments
                : item.TryGetProperty("input"u8, out var toolInput) ? toolInput : default);
        }

        if (type.ValueEquals("function_call_output"u8) || type.ValueEquals("custom_tool_call_output"u8))
        {
            return new Turn(Tool, item.TryGetProperty("output"u8, out var output) ? output : default);
        }

        return null;
    }

    /// <summary>Completion prompts or embedding inputs: a string, or an array of strings (a batch: one turn each; token arrays carry no text).</summary>
    private static Conversation FromPrompt(JsonElement root, ReadOnlySpan<byte> name)
    {
        if (!root.TryGetProperty(name, out var prompt))
        {
            return Empty;
        }

        if (prompt.ValueKind == JsonValueKind.String)
        {
            return new Conversation([new Turn(User, prompt)], 0, isPrompt: true);
        }

        if (prompt.ValueKind != JsonValueKind.Array)
        {
            return Empty;
        }

        var turns = new List<Turn>();
        foreach (var element in prompt.EnumerateArray())
        {
            if (element.ValueKind == JsonValueKind.String)
            {
                turns.Add(new Turn(User, element));
            }
        }

        return new Conversation(turns, 0, isPrompt: true);
    }

    private static string Role(JsonElement message)
    {
        if (!message.TryGetProperty("role"u8, out var role) || role.ValueKind != JsonValueKind.String)
        {
            return User;
        }

        return role.ValueEquals("user"u8) ? User
            : role.ValueEquals("assistant"u8) ? Assistant
            : role.ValueEquals("system"u8) || role.ValueEquals("developer"u8) ? System
            : role.ValueEquals("tool"u8) || role.ValueEquals("function"u8) ? Tool
            : role.GetString()!;
    }
}

/// <summary>
/// The one reading of a message's content: a string is its own text; an array holds parts, and a part is text when it
/// is a string or an object with a string <c>text</c> (<c>text</c>, <c>input_text</c>, <c>output_text</c>) or
/// <c>refusal</c>; any other object part (<c>image_url</c>, <c>input_image</c>, <c>input_audio</c>, <c>file</c>,
/// <c>input_file</c>) is a non-text part.
/// </summary>
public static class MessageContent
{
    /// <summary>The string elements holding the content's text, in order.</summary>
    public static IEnumerable<JsonElement> TextParts(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            yield return content;
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in content.EnumerateArray())
            {
                if (PartText(part) is { ValueKind: JsonValueKind.String } text)
                {
                    yield return text;
                }
            }
        }
    }

    /// <summary>A part's text element; undefined for a non-text part.</summary>
    public static JsonElement PartText(JsonElement part) =>
        part.ValueKind == JsonValueKind.String ? part
        : part.ValueKind == JsonValueKind.Object && (part.TryGetProperty("text"u8, out var text) || part.TryGetProperty("refusal"u8, out text))
          && text.ValueKind == JsonValueKind.String ? text
        : default;

    /// <summary>The content's text parts joined by newlines (empty for none).</summary>
    public static string Text(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        var text = new StringBuilder();
        foreach (var part in TextParts(content))
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(part.GetString());
        }

        return text.ToString();
    }

    public static int NonTextParts(JsonElement content)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        var count = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && PartText(part).ValueKind == JsonValueKind.Undefined)
            {
                count++;
            }
        }

        return count;
    }
}
