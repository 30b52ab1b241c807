using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;

namespace Gateway.Routing;

/// <summary>
/// What the planner saw for one request, kept on its ledger row (compact JSON, no prompt text) so that a draft policy
/// can be replayed over recorded traffic: the request's shape, the classifier's seven probabilities and
/// <c>needs_strong</c>, retrieval relevance, and the values of the headers the live policy's rules read.
/// </summary>
public sealed record DecisionFacts(
    [property: JsonPropertyName("op")] string Operation,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("stream")] bool Stream,
    [property: JsonPropertyName("tools")] bool Tools,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens,
    [property: JsonPropertyName("n")] int Choices,
    [property: JsonPropertyName("bytes")] int BodyLength,
    [property: JsonPropertyName("scores")] float[]? Scores,
    [property: JsonPropertyName("needs_strong")] float? NeedsStrong,
    [property: JsonPropertyName("relevance")] double? Relevance,
    [property: JsonPropertyName("headers")] Dictionary<string, string>? Headers,
    [property: JsonPropertyName("typical_output")] int? TypicalOutputTokens = null,
    [property: JsonPropertyName("follow_up")] bool? FollowUp = null)
{
    public static DecisionFacts Of(RoutingPolicy policy, RequestShape shape, PromptClassification? classification, RequestFacts facts)
    {
        // Indexed loops: these lists are interfaces, and foreach over one allocates an enumerator per rule per request.
        Dictionary<string, string>? headers = null;
        if (facts.Headers is { } all)
        {
            for (var rule = 0; rule < policy.Rules.Count; rule++)
            {
                var read = policy.Rules[rule].Headers;
                for (var h = 0; h < read.Count; h++)
                {
                    var name = read[h].Key;
                    if (all.TryGetValue(name, out var value))
                    {
                        (headers ??= new(StringComparer.OrdinalIgnoreCase))[name] = value.ToString();
                    }
                }
            }
        }

        float[]? scores = null;
        if (classification is not null)
        {
            scores = new float[PromptCategories.All.Count];
            for (var i = 0; i < scores.Length; i++)
            {
                scores[i] = MathF.Round(classification.Scores.GetValueOrDefault(PromptCategories.All[i]), 4);
            }
        }

        return new DecisionFacts(shape.Operation.ToString(), shape.Model, shape.Stream, shape.HasTools, shape.MaxTokens, shape.Choices, shape.BodyLength,
            scores,
            classification is null ? null : MathF.Round(classification.NeedsStrong, 4),
            facts.RetrievalRelevance is { } r ? Math.Round(r, 4) : null,
            headers,
            facts.TypicalOutputTokens,
            shape.FollowUp ? true : null);
    }

    public string ToJson() => JsonSerializer.Serialize(this, DecisionFactsJson.Default.DecisionFacts);

    public static DecisionFacts? Parse(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize(json, DecisionFactsJson.Default.DecisionFacts);

    public RequestShape Shape => new(Enum.Parse<OpenAiOperation>(Operation), Model, Stream, Tools, MaxTokens, Choices, BodyLength, FollowUp ?? false);

    /// <summary>The classification as recorded (its category the most probable), or null when none was made.</summary>
    public PromptClassification? Classification()
    {
        if (Scores is not { Length: > 0 } scores)
        {
            return null;
        }

        var byName = new Dictionary<string, float>(PromptCategories.All.Count, StringComparer.Ordinal);
        var best = 0;
        for (var i = 0; i < PromptCategories.All.Count && i < scores.Length; i++)
        {
            byName[PromptCategories.All[i]] = scores[i];
            best = scores[i] > scores[best] ? i : best;
        }

        return new PromptClassification(PromptCategories.All[best], byName, NeedsStrong ?? 0, scores[best], "recorded");
    }

    public IHeaderDictionary? HeaderDictionary()
    {
        if (Headers is null)
        {
            return null;
        }

        var result = new HeaderDictionary();
        foreach (var (name, value) in Headers)
        {
            result[name] = value;
        }

        return result;
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DecisionFacts))]
internal sealed partial class DecisionFactsJson : JsonSerializerContext;
