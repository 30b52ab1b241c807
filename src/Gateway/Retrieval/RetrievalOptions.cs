using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Gateway.Retrieval;

/// <summary>How local routes retrieve, bound from the <c>Retrieval</c> section.</summary>
public sealed class RetrievalOptions
{
    public const string Section = "Retrieval";

    /// <summary>Passages put into the prompt at most (default 3).</summary>
    [Range(1, 50)]
    public int TopK { get; set; } = 3;

    /// <summary>Lowest cosine similarity for a passage to be used (default 0.3).</summary>
    [Range(-1.0, 1.0)]
    public float MinScore { get; set; } = 0.3f;
}

/// <summary>The text a retrieval query is made of: the last user turn of a chat request.</summary>
public static class RetrievalQuery
{
    public static string LastUserText(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        for (var i = messages.GetArrayLength() - 1; i >= 0; i--)
        {
            var message = messages[i];
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role"u8, out var role) && role.ValueEquals("user"u8)
                && message.TryGetProperty("content"u8, out var content))
            {
                return content.ValueKind switch
                {
                    JsonValueKind.String => content.GetString()!,
                    JsonValueKind.Array => string.Join("\n", content.EnumerateArray()
                        .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text"u8, out var t) && t.ValueKind == JsonValueKind.String)
                        .Select(p => p.GetProperty("text"u8).GetString())),
                    _ => "",
                };
            }
        }

        return "";
    }
}
