using Gateway.Testing;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Classification;
using Gateway.Classifier.Training;

namespace Gateway.Tests.ClassifierTraining;

/// <summary>The training CLI end to end on the repository's corpus: what it writes, the gateway loads.</summary>
public sealed class TrainingRunTests
{
    private static readonly string SamplePath = Path.Combine(AppContext.BaseDirectory, "data", "real-prompts-sample.jsonl");

    /// <summary>MiniLM's token rows are computed once per machine (~30 s) and shared by every test that trains.</summary>
    internal static readonly string Cache = Path.Combine(Path.GetTempPath(), "gateway-classifier-cache");

    // Small and fast: the shipped model uses the defaults; these tests check the pipeline, not the numbers.
    private static readonly TrainingOptions Quick = new() { Hidden = 8, CategoryEpochs = 3, NeedsStrongEpochs = 1, NeedsStrongL2Grid = [1e-2f], TableDimensions = 32 };

    private static int Train(string categories, IReadOnlyList<string> preferences, string outDir, TrainingOptions options, TextWriter log,
        Evaluation evaluate = Evaluation.None) =>
        TrainingRun.Train(categories, null, preferences, outDir, options, log, evaluate, Cache);

    /// <summary>A preference file whose label follows the prompt: "hard" ones need the strong model.</summary>
    private static string WritePreferences(string folder)
    {
        var path = Path.Combine(folder, "prefs.jsonl");
        var random = new Random(7);
        var lines = Enumerable.Range(0, 200).Select(i =>
        {
            var hard = i % 2 == 0;
            var prompt = hard
                ? $"Prove that the sequence a_{i} converges and bound its limit rigorously; case {random.Next(1000)}."
                : $"What is {random.Next(100)} plus {random.Next(100)}?";
            return new JsonObject
            {
                ["source"] = $"synthetic-{i % 2}",
                ["subject"] = $"subject-{i % 10}",
                ["prompt"] = prompt,
                ["strong_correct"] = true,
                ["weak_correct"] = !hard,
            }.ToJsonString();
        });
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Train_WritesModelLabelsAndCard_ThatTheGatewayLoads()
    {
        var folder = TestFolders.Create("classifier-train-").FullName;
        var output = new StringWriter();

        var exit = Train(SamplePath, [WritePreferences(folder)], Path.Combine(folder, "out"), Quick, output, Evaluation.All);

        Assert.Equal(0, exit);
        var outDir = Path.Combine(folder, "out");
        using var model = ClassifierModel.Load(Path.Combine(outDir, "classifier.onnx"));
        Assert.Equal(TrainingRun.Labels, model.Labels);
        Assert.Equal(TrainingRun.Labels, JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(outDir, "labels.json"))));
        var card = File.ReadAllText(Path.Combine(outDir, "model-card.md"));
        Assert.Contains(model.Version, card, StringComparison.Ordinal);
        Assert.Contains("leave-one-source-out", card, StringComparison.Ordinal);
        Assert.Contains("prompt length", card, StringComparison.Ordinal);
        Assert.Contains("length router APGR", card, StringComparison.Ordinal);

        // The graph computes what the trainer computed.
        Assert.Matches(@"max \|difference\| [0-9.]+E-0(0[5-9]|1[0-9])", output.ToString());
        // Held out by source, even a tiny model on 269 prompts beats the prompt-length baseline on the same rows.
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
        Assert.InRange(metrics["category_loso_macro_f1"]!.GetValue<double>(), 0.25, 1.0);
    }

    [Fact]
    public void Train_SameSeed_SameBytes_OtherSeed_OtherModel()
    {
        var folder = TestFolders.Create("classifier-seed-").FullName;
        var prefs = WritePreferences(folder);

        Train(SamplePath, [prefs], Path.Combine(folder, "a"), Quick, TextWriter.Null);
        Train(SamplePath, [prefs], Path.Combine(folder, "b"), Quick, TextWriter.Null);
        Train(SamplePath, [prefs], Path.Combine(folder, "c"), Quick with { Seed = 7 }, TextWriter.Null);

        var a = File.ReadAllBytes(Path.Combine(folder, "a", "classifier.onnx"));
        Assert.Equal(a, File.ReadAllBytes(Path.Combine(folder, "b", "classifier.onnx")));
        Assert.NotEqual(a, File.ReadAllBytes(Path.Combine(folder, "c", "classifier.onnx")));
    }

    [Fact]
    public void Train_UnknownCategoryInData_RefusesWithTheCategory()
    {
        var folder = TestFolders.Create("classifier-bad-").FullName;
        var data = Path.Combine(folder, "bad.jsonl");
        File.WriteAllText(data, """{"text":"x","label":"poetry","source":"s","lang":"en"}""" + "\n");
        var output = new StringWriter();

        Assert.Equal(2, Train(data, [], Path.Combine(folder, "out"), Quick, output));
        Assert.Contains("poetry", output.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "out", "classifier.onnx")));
    }

    [Fact]
    public void Evaluate_BundledModelOnRealSample_PrintsMacroF1BesideBaselines()
    {
        var output = new StringWriter();
        var bundled = Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx");

        Assert.Equal(0, TrainingRun.EvaluateCommand(bundled, SamplePath, output));

        Assert.Matches(@"macro-F1 [0-9.]+, accuracy [0-9.]+ ?%; majority class [0-9.]+, random [0-9.]+", output.ToString());
    }

    [Fact]
    public void Calibrate_StrongShare_PrintsTheThresholdThatSendsThatShare()
    {
        var folder = TestFolders.Create("classifier-calibrate-").FullName;
        var data = Path.Combine(folder, "prompts.jsonl");
        File.WriteAllLines(data, new[]
        {
            "hi there", "What is 2+2?", "Prove Fermat's little theorem.", "Summarise: the meeting moved to Friday.",
            "Write a Rust borrow-checker-friendly linked list.", "Plan a week in Peru on a budget.",
            "Who wrote Hamlet?", "Write a limerick about cheese.",
        }.Select(p => new JsonObject { ["prompt"] = p }.ToJsonString()));
        var output = new StringWriter();
        var bundled = Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx");

        var exit = TrainingRun.CalibrateCommand(bundled, data, strongShare: 0.25, targetPgr: null, output);

        Assert.Equal(0, exit);
        Assert.Matches(@"threshold [0-9.E-]+ sends 25\.0 ?% of 8 prompts", output.ToString());
    }

    [Fact]
    public void Calibrate_MissingFile_IsRefusedWithThePath()
    {
        var output = new StringWriter();
        var bundled = Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx");

        Assert.Equal(2, TrainingRun.CalibrateCommand(bundled, "/nonexistent/prompts.jsonl", strongShare: 0.3, targetPgr: null, output));
        Assert.Contains("/nonexistent/prompts.jsonl", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Calibrate_TargetQualityWithoutCorrectness_IsRefused()
    {
        var folder = TestFolders.Create("classifier-calibrate-").FullName;
        var data = Path.Combine(folder, "prompts.jsonl");
        File.WriteAllText(data, """{"prompt":"hello"}""" + "\n");
        var output = new StringWriter();
        var bundled = Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx");

        Assert.Equal(2, TrainingRun.CalibrateCommand(bundled, data, strongShare: null, targetPgr: 0.8, output));
        Assert.Contains("strong_correct", output.ToString(), StringComparison.Ordinal);
    }
}
