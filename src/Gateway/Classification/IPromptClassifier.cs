using Gateway.OpenAi;

namespace Gateway.Classification;

/// <summary>
/// Classifies a prompt in-process. Knows nothing of HTTP or policies: a request's conversation in,
/// a <see cref="PromptClassification"/> out. Must be thread-safe.
/// </summary>
public interface IPromptClassifier
{
    PromptClassification Classify(OpenAiRequest request);
}

/// <summary>The classifier's verdict on one prompt.</summary>
/// <param name="Category">One of the model's categories (chat, coding, math, reasoning, knowledge, extraction, writing).</param>
/// <param name="Scores">Probability per category.</param>
/// <param name="NeedsStrong">Probability that a small model fails where a frontier model succeeds.</param>
public sealed record PromptClassification(
    string Category,
    IReadOnlyDictionary<string, float> Scores,
    float NeedsStrong,
    float Confidence,
    string ModelVersion);
