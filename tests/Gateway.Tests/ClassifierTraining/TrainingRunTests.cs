using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Classification;
using Gateway.Classifier.Training;

namespace Gateway.Tests.ClassifierTraining;

/// <summary>The training CLI end to end on the repository's corpus: what it writes, the gateway loads.</summary>
public sealed class TrainingRunTests
{
    private static readonly string CorpusPath = Path.Combine(AppContext.BaseDirectory, "Corpus", "categories.jsonl");

    // Small and fast: the shipped model uses the defaults; these tests check the pipeline, not the numbers.
    private static readonly TrainingOptions Quick = new() { Hidden = 8, CategoryEpochs = 1, NeedsStrongEpochs = 1, NeedsStrongL2Grid = [1e-2f] };

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
                ["source"] = "synthetic",
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
        var folder = Directory.CreateTempSubdirectory("classifier-train-").FullName;
        var output = new StringWriter();

        var exit = TrainingRun.Train(CorpusPath, [WritePreferences(folder)], Path.Combine(folder, "out"), Quick, output);

        Assert.Equal(0, exit);
        var outDir = Path.Combine(folder, "out");
        using var model = ClassifierModel.Load(Path.Combine(outDir, "classifier.onnx"));
        Assert.Equal(TrainingRun.Labels, model.Labels);
        Assert.Equal(TrainingRun.Labels, JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(outDir, "labels.json"))));
        var card = File.ReadAllText(Path.Combine(outDir, "model-card.md"));
        Assert.Contains(model.Version, card, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix", card, StringComparison.Ordinal);
        Assert.Contains("APGR", card, StringComparison.Ordinal);

        // The graph computes what the trainer computed.
        Assert.Matches(@"max \|difference\| [0-9.]+E-0(0[6-9]|1[0-9])", output.ToString());
        // Even one epoch on a fifth of the width learns the categories of unseen templates.
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
        Assert.InRange(metrics["category_accuracy"]!.GetValue<double>(), 0.6, 1.0);
    }

    [Fact]
    public void Train_SameSeed_SameBytes_OtherSeed_OtherModel()
    {
        var folder = Directory.CreateTempSubdirectory("classifier-seed-").FullName;
        var prefs = WritePreferences(folder);

        TrainingRun.Train(CorpusPath, [prefs], Path.Combine(folder, "a"), Quick, TextWriter.Null);
        TrainingRun.Train(CorpusPath, [prefs], Path.Combine(folder, "b"), Quick, TextWriter.Null);
        TrainingRun.Train(CorpusPath, [prefs], Path.Combine(folder, "c"), Quick with { Seed = 7 }, TextWriter.Null);

        var a = File.ReadAllBytes(Path.Combine(folder, "a", "classifier.onnx"));
        Assert.Equal(a, File.ReadAllBytes(Path.Combine(folder, "b", "classifier.onnx")));
        Assert.NotEqual(a, File.ReadAllBytes(Path.Combine(folder, "c", "classifier.onnx")));
    }

    [Fact]
    public void Train_UnknownCategoryInCorpus_RefusesWithTheCategory()
    {
        var folder = Directory.CreateTempSubdirectory("classifier-bad-").FullName;
        var corpus = Path.Combine(folder, "bad.jsonl");
        File.WriteAllText(corpus, """{"category":"poetry","group":"g","split":"train","messages":[{"role":"user","content":"x"}]}""" + "\n");
        var output = new StringWriter();

        Assert.Equal(2, TrainingRun.Train(corpus, [], Path.Combine(folder, "out"), Quick, output));
        Assert.Contains("poetry", output.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "out", "classifier.onnx")));
    }

    [Fact]
    public void Calibrate_StrongShare_PrintsTheThresholdThatSendsThatShare()
    {
        var folder = Directory.CreateTempSubdirectory("classifier-calibrate-").FullName;
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
    public void Calibrate_TargetQualityWithoutCorrectness_IsRefused()
    {
        var folder = Directory.CreateTempSubdirectory("classifier-calibrate-").FullName;
        var data = Path.Combine(folder, "prompts.jsonl");
        File.WriteAllText(data, """{"prompt":"hello"}""" + "\n");
        var output = new StringWriter();
        var bundled = Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx");

        Assert.Equal(2, TrainingRun.CalibrateCommand(bundled, data, strongShare: null, targetPgr: 0.8, output));
        Assert.Contains("strong_correct", output.ToString(), StringComparison.Ordinal);
    }
}
