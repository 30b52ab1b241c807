using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Classification;
using Gateway.OpenAi;
using Microsoft.Extensions.Options;

namespace Gateway.Admin;

/// <summary><c>POST /admin/classify</c>: what the classifier says of a conversation, without routing it.</summary>
internal static class ClassifyEndpoint
{
    public static void MapClassify(this RouteGroupBuilder admin) =>
        admin.MapPost("/classify", async (HttpContext http, IPromptClassifier classifier, IOptions<OpenAiOptions> options) =>
        {
            var body = await RequestBodyReader.ReadAsync(http, options.Value.MaxRequestBodyBytes, http.RequestAborted);
            using var document = JsonBody.Parse(body);
            var root = document.RootElement;
            Validate(root);
            var result = classifier.Classify(Conversation.Read(root));
            return TypedResults.Ok(new ClassifyResponse(
                result.Category, result.Scores, result.NeedsStrong, result.Confidence, result.ModelVersion));
        });

    /// <summary>The shape only: any text (empty, multilingual, multimodal parts) classifies.</summary>
    private static void Validate(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw OpenAiErrors.InvalidParameter("messages", "The body must be a JSON object with 'messages' or 'prompt'.");
        }

        if (root.TryGetProperty("messages"u8, out var messages))
        {
            if (messages.ValueKind != JsonValueKind.Array)
            {
                throw OpenAiErrors.InvalidParameter("messages", "'messages' must be an array of {role, content} objects.");
            }

            var i = 0;
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object
                    || !message.TryGetProperty("role"u8, out var role) || role.ValueKind != JsonValueKind.String)
                {
                    throw OpenAiErrors.InvalidParameter($"messages[{i}]", $"messages[{i}] must be an object with a string 'role'.");
                }

                i++;
            }

            return;
        }

        if (!root.TryGetProperty("prompt"u8, out var prompt))
        {
            throw OpenAiErrors.MissingParameter("messages");
        }

        if (prompt.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            throw OpenAiErrors.InvalidParameter("prompt", "'prompt' must be a string or an array of strings.");
        }
    }
}

/// <summary>The classifier contract (ARCHITECTURE §4).</summary>
public sealed record ClassifyResponse(
    [property: JsonPropertyName("category")] string Category,
    [property: JsonPropertyName("scores")] IReadOnlyDictionary<string, float> Scores,
    [property: JsonPropertyName("needs_strong")] float NeedsStrong,
    [property: JsonPropertyName("confidence")] float Confidence,
    [property: JsonPropertyName("model_version")] string ModelVersion);
