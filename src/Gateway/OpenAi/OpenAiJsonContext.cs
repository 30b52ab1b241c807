using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.OpenAi;

/// <summary>Source-generated serializers for everything the gateway itself writes.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(OpenAiErrorBody))]
[JsonSerializable(typeof(ModelList))]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext
{
    /// <summary>Writes text as OpenAI does (no \u0027 for quotes); bodies are JSON, never embedded in HTML.</summary>
    public static OpenAiJsonContext Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
