using System.Text.Json.Serialization;

namespace Gateway.OpenAi;

/// <summary><c>GET /v1/models</c> response.</summary>
public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<ModelEntry> Data);

/// <summary>One model in <see cref="ModelList"/>.</summary>
public sealed record ModelEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);
