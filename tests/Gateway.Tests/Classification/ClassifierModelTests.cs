using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Classification;

namespace Gateway.Tests.Classification;

/// <summary>The bundled model, loaded from the build output as the gateway loads it.</summary>
public sealed class ClassifierModelTests : IDisposable
{
    private static readonly string BundledPath = Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx");

    private readonly ClassifierModel _model = ClassifierModel.Load(BundledPath);

    public void Dispose() => _model.Dispose();

    private PromptClassification Classify(string json)
    {
        using var document = JsonDocument.Parse(json);
        return _model.Classify(document.RootElement);
    }

    private PromptClassification ClassifyUser(string text) =>
        Classify(JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = text } } }));

    [Fact]
    public void Load_BundledModel_HasTheContractCategories()
    {
        Assert.Equal(["chat", "coding", "math", "reasoning", "knowledge", "extraction", "writing"], _model.Labels);
        Assert.StartsWith("clf-", _model.Version, StringComparison.Ordinal);
    }

    public static TheoryData<string> AwkwardRequests => new()
    {
        """{"messages":[{"role":"user","content":""}]}""",
        """{"messages":[]}""",
        """{"messages":[{"role":"user","content":null}]}""",
        """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}""",
        """{"messages":[{"role":"system","content":"Only a system prompt."}]}""",
        """{"messages":[{"role":"user","content":"```python\nprint('hi')\n```"}]}""",
        """{"messages":[{"role":"user","content":"日本の首都はどこですか？"}]}""",
        """{"messages":[{"role":"user","content":"🙂🙂🙂"}]}""",
        """{"prompt":"Once upon a time"}""",
        """{"prompt":[1,2,3]}""",
        """{"input":"not a chat request"}""",
    };

    [Theory]
    [MemberData(nameof(AwkwardRequests))]
    public void Classify_AwkwardInput_ReturnsAValidDistribution(string json)
    {
        var result = Classify(json);

        Assert.Contains(result.Category, _model.Labels);
        Assert.Equal(7, result.Scores.Count);
        Assert.Equal(1f, result.Scores.Values.Sum(), 3);
        Assert.All(result.Scores.Values, s => Assert.InRange(s, 0f, 1f));
        Assert.InRange(result.NeedsStrong, 0f, 1f);
        Assert.Equal(result.Scores[result.Category], result.Confidence);
        Assert.Equal(_model.Version, result.ModelVersion);
    }

    [Fact]
    public void Classify_MegabytePrompt_ClassifiesWithoutError()
    {
        var result = ClassifyUser(string.Concat(Enumerable.Repeat("Summarize the following log line. ERROR timeout 42\n", 20_000)));

        Assert.Contains(result.Category, _model.Labels);
    }

    // Clear-cut prompts written for this test, not taken from the corpus: a model that gets these
    // wrong is broken, whatever its held-out numbers say.
    [Theory]
    [InlineData("hey! how's it going?", "chat")]
    [InlineData("Write a Go function that returns the n-th prime, with a unit test.", "coding")]
    [InlineData("What is 348 multiplied by 27?", "math")]
    [InlineData("Write a haiku about autumn leaves falling on a quiet pond.", "writing")]
    public void Classify_ClearCutPrompt_GetsItsCategory(string prompt, string expected)
    {
        Assert.Equal(expected, ClassifyUser(prompt).Category);
    }

    /// <summary>
    /// A regression floor on real prompts (tests/data/README.md): the bundled model saw these rows in
    /// training, so the floor is not a quality claim; it is what a broken featurizer, a token table
    /// indexed with the wrong vocabulary or a shuffled label map cannot reach.
    /// </summary>
    [Fact]
    public void Classify_RealSample_MacroF1AboveTheFloor_ShuffledLabelsFallBelowIt()
    {
        const double Floor = 0.80;
        var rows = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "data", "real-prompts-sample.jsonl"))
            .Select(line => JsonNode.Parse(line)!)
            .Select(node => (
                Label: (string)node["label"]!,
                Request: node["messages"] is JsonArray messages
                    ? new JsonObject { ["messages"] = messages.DeepClone() }.ToJsonString()
                    : new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = (string)node["text"]! }) }.ToJsonString()))
            .ToList();
        var predicted = rows.Select(r => Classify(r.Request).Category).ToList();
        var labels = _model.Labels.ToArray();
        var shuffled = predicted.Select(p => labels[(Array.IndexOf(labels, p) + 1) % labels.Length]).ToList();

        Assert.InRange(MacroF1(labels, rows.Select(r => r.Label).ToList(), predicted), Floor, 1.0);
        Assert.InRange(MacroF1(labels, rows.Select(r => r.Label).ToList(), shuffled), 0.0, Floor / 4);
    }

    private static double MacroF1(string[] labels, List<string> truth, List<string> predicted) =>
        labels.Average(label =>
        {
            var tp = truth.Where((t, i) => t == label && predicted[i] == label).Count();
            var fp = predicted.Where((p, i) => p == label && truth[i] != label).Count();
            var fn = truth.Where((t, i) => t == label && predicted[i] != label).Count();
            return tp == 0 ? 0.0 : 2.0 * tp / ((2.0 * tp) + fp + fn);
        });

    [Fact]
    public void Classify_ConcurrentCalls_AgreeWithSequentialOnes()
    {
        var prompts = Enumerable.Range(0, 64).Select(i => $"Question {i}: what is the capital of country number {i}?").ToArray();
        var sequential = prompts.Select(p => ClassifyUser(p).NeedsStrong).ToArray();

        var parallel = new float[prompts.Length];
        Parallel.For(0, prompts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = ClassifyUser(prompts[i]).NeedsStrong);

        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void Load_MissingFile_NamesThePathAndTheSetting()
    {
        var ex = Assert.Throws<ClassifierModelException>(() => ClassifierModel.Load("/nonexistent/classifier.onnx"));

        Assert.Contains("/nonexistent/classifier.onnx", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Classifier:ModelPath", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NotAnOnnxFile_IsRejectedWithTheReason()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "this is not a model");

        var ex = Assert.Throws<ClassifierModelException>(() => ClassifierModel.Load(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }
}
