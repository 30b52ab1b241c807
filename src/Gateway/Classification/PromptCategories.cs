namespace Gateway.Classification;

/// <summary>The classifier's categories: a contract the policy engine, the admin API and the training CLI share.</summary>
public static class PromptCategories
{
    public const string Chat = "chat";
    public const string Coding = "coding";
    public const string Math = "math";
    public const string Reasoning = "reasoning";
    public const string Knowledge = "knowledge";
    public const string Extraction = "extraction";
    public const string Writing = "writing";

    /// <summary>In the order the model emits its scores.</summary>
    public static readonly IReadOnlyList<string> All = [Chat, Coding, Math, Reasoning, Knowledge, Extraction, Writing];
}
