using Gateway.OpenAi;

namespace Gateway.Classification;

/// <summary>
/// Classifies a prompt in-process. Knows nothing of HTTP or policies: a request's conversation in,
/// a <see cref="PromptClassification"/> out. Must be thread-safe.
/// </summary>
public interface IPromptClassifier
{
    /// <summary>
    /// Classifies a conversation (chat messages, Responses input, or a completion prompt, as read by
    /// <see cref="Conversation"/>). Never throws for odd content: empty, multimodal or missing text classifies too.
    /// </summary>
    PromptClassification Classify(Conversation conversation);
}

/// <summary>The classifier's verdict on one prompt.</summary>
/// <param name="Category">One of the model's categories (chat, coding, math, reasoning, knowledge, extraction, writing).</param>
/// <param name="Scores">Probability per category.</param>
/// <param name="NeedsStrong">Probability that a small model fails where a frontier model succeeds.</param>
/// <param name="Confidence">The winning category's probability.</param>
/// <param name="ModelVersion">The classifier model that produced this verdict.</param>
public sealed record PromptClassification(
    string Category,
    IReadOnlyDictionary<string, float> Scores,
    float NeedsStrong,
    float Confidence,
    string ModelVersion);
