using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Classification;

namespace Gateway.Classifier.Training;

/// <summary>The commands: train (and evaluate held out), evaluate a model on labelled data, calibrate a threshold, classify.</summary>
internal static class TrainingRun
{
    /// <summary>The contract's categories, in the order the model emits them.</summary>
    public static readonly string[] Labels = [.. PromptCategories.All];

    private static readonly string[] EasyCategories = ["chat", "extraction"];

    /// <summary>
    /// Trains on every real prompt (and the generated corpus when given), exports ONNX + labels + card,
    /// and — unless <paramref name="evaluate"/> is off — measures the same recipe held out by source
    /// (categories) and by source/subject (needs_strong), beside baselines, for the card.
    /// </summary>
    public static int Train(string categories, string? generated, IReadOnlyList<string> preferencePaths, string outDir, TrainingOptions options,
        TextWriter log, Evaluation evaluate = Evaluation.All, string cacheDir = "artifacts/classifier-cache")
    {
        var rows = RealData.ReadCategories(categories);
        if (generated is not null)
        {
            rows.AddRange(RealData.ReadGenerated(generated));
        }

        var unknown = rows.Select(r => r.Label).Distinct().Except(Labels).ToArray();
        if (unknown.Length > 0 || rows.Count == 0)
        {
            log.WriteLine($"error: {categories} has no prompts or categories outside the contract: {string.Join(", ", unknown)}");
            return 2;
        }

        log.WriteLine($"categories: {rows.Count} prompts from {rows.Select(r => r.Family).Distinct().Count()} source families");
        var featurizer = new Featurizer();
        var table = StudyCommand.BuildTable(rows, featurizer, options.TableDimensions, cacheDir, log);
        var set = options.Features & (FeatureSet.Ngrams | FeatureSet.TokenTable);
        var features = rows.Select(r => featurizer.Features(r.Request, table, set)).ToList();
        var y = rows.Select(r => Array.IndexOf(Labels, r.Label)).ToList();
        var mlp = CategoryMlp.Train(features, y, RealData.BalancedWeights(rows, options.SourcePower), Labels.Length, options, log);

        var preferences = Datasets.ReadPreferences(preferencePaths);
        log.WriteLine($"preferences: {preferences.Count} prompts from {preferences.Select(p => p.Source).Distinct().Count()} sources");
        var groups = preferences.Select(p => (p.Source, p.Subject)).Distinct().Order().Select((g, i) => (g, i)).ToDictionary(x => x.g, x => x.i);
        var examples = preferences.Select(p =>
        {
            var f = featurizer.Features(p.Request, table, set);
            return new NeedsStrongLogistic.Example(WithoutNgrams(f), mlp.Predict(f), p.NeedsStrong, 1f, groups[(p.Source, p.Subject)]);
        }).ToList();
        // The preference data has no small talk: a frontier model is not worth paying for a greeting.
        var prior = rows.Select((r, i) => (r, i)).Where(x => EasyCategories.Contains(x.r.Label) && x.i % 4 == 0)
            .Select(x => new NeedsStrongLogistic.Example(WithoutNgrams(features[x.i]), mlp.Predict(features[x.i]), false, options.EasyPriorWeight))
            .ToList();
        var prefFolds = NeedsStrongStudy.Folds(preferences);
        var l2 = preferences.Count == 0 ? options.NeedsStrongL2Grid[0]
            : prefFolds.Count > 1 ? NeedsStrongStudy.ChooseL2(examples, preferences, prefFolds, prior, options, log) : options.NeedsStrongL2Grid[0];
        var strong = NeedsStrongLogistic.Train([.. examples, .. prior], l2, options);

        Directory.CreateDirectory(outDir);
        var modelPath = Path.Combine(outDir, "classifier.onnx");
        var version = OnnxExport.Write(modelPath, table, mlp, strong, Labels);
        File.WriteAllText(Path.Combine(outDir, "labels.json"), JsonSerializer.Serialize(Labels, ClassifierJsonContext.Default.StringArray) + "\n");
        log.WriteLine($"wrote {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB), version {version}");

        using var model = ClassifierModel.Load(modelPath);
        var drift = MaxDrift(model, mlp, strong, rows.Take(200).Select(r => r.Request), featurizer, table, set);
        log.WriteLine($"ONNX vs trainer arithmetic: max |difference| {drift:E1}");

        var card = new ModelCard(version, categories, generated, rows, preferencePaths, preferences, options, l2);
        {
            var folds = CategoryStudy.LeaveOneSourceOut(rows);
            if (folds.Count > 1 && evaluate.HasFlag(Evaluation.Categories))
            {
                log.WriteLine("leave-one-source-out (categories):");
                var outcome = CategoryStudy.Run("this model's recipe", rows, features, folds, options, log);
                var plain = rows.Select(r => featurizer.Features(r.Request, null, FeatureSet.None)).ToList();
                card.Loso = [outcome, .. CategoryStudy.Baselines(rows, plain, folds, options.Seed)];
                card.LosoFolds = folds;
            }

            if (prefFolds.Count > 1 && evaluate.HasFlag(Evaluation.NeedsStrong))
            {
                log.WriteLine("held-out needs_strong:");
                card.NeedsStrong = NeedsStrongStudy.Run(examples, preferences, prior, options, log);
            }
        }

        card.Write(outDir);
        log.Write(File.ReadAllText(Path.Combine(outDir, "model-card.md")));
        return 0;
    }

    /// <summary>The needs_strong head does not read n-grams (see <see cref="NeedsStrongLogistic"/>).</summary>
    private static PromptFeatures WithoutNgrams(PromptFeatures features) => features with { Sparse = new SparseFeatures([], []) };

    private static double MaxDrift(ClassifierModel model, CategoryMlp mlp, NeedsStrongLogistic strong, IEnumerable<string> requests,
        Featurizer featurizer, TokenTable table, FeatureSet set)
    {
        var max = 0.0;
        foreach (var request in requests)
        {
            using var document = JsonDocument.Parse(request);
            var onnx = model.Classify(document.RootElement);
            var features = featurizer.Features(request, table, set);
            var p = mlp.Predict(features);
            for (var c = 0; c < Labels.Length; c++)
            {
                max = Math.Max(max, Math.Abs(p[c] - onnx.Scores[Labels[c]]));
            }

            max = Math.Max(max, Math.Abs(strong.Predict(features, p) - onnx.NeedsStrong));
        }

        return max;
    }

    /// <summary>Classifies a labelled file with a model and prints accuracy and macro-F1 beside the majority and random baselines.</summary>
    public static int EvaluateCommand(string modelPath, string dataPath, TextWriter log)
    {
        using var model = ClassifierModel.Load(modelPath);
        var rows = RealData.ReadCategories(dataPath);
        log.WriteLine($"model {modelPath}, version {model.Version}; {rows.Count} labelled prompts");
        var truth = rows.Select(r => Array.IndexOf(Labels, r.Label)).ToList();
        var predicted = rows.Select(r =>
        {
            using var document = JsonDocument.Parse(r.Request);
            return Array.IndexOf(Labels, model.Classify(document.RootElement).Category);
        }).ToList();
        var report = new ClassificationReport(Labels, truth, predicted);
        var majority = truth.GroupBy(t => t).OrderByDescending(g => g.Count()).First().Key;
        var random = new Random(42);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"macro-F1 {report.MacroF1:F3}, accuracy {report.Accuracy:P1}; majority class {new ClassificationReport(Labels, truth, truth.Select(_ => majority).ToList()).MacroF1:F3}, random {new ClassificationReport(Labels, truth, truth.Select(_ => random.Next(Labels.Length)).ToList()).MacroF1:F3} (macro-F1, same rows)"));
        log.WriteLine();
        log.Write(report.ToMarkdown());
        return 0;
    }

    public static int ClassifyCommand(string modelPath, IReadOnlyList<string> prompts, TextWriter log)
    {
        using var model = ClassifierModel.Load(modelPath);
        foreach (var prompt in prompts)
        {
            using var document = JsonDocument.Parse(Datasets.UserRequest(prompt));
            var result = model.Classify(document.RootElement);
            var scores = string.Join(", ", result.Scores.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Value:F2}")));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Category,-10} needs_strong {result.NeedsStrong:F2}  [{scores}]  {prompt}"));
        }

        return 0;
    }

    public static int CalibrateCommand(string modelPath, string dataPath, double? strongShare, double? targetPgr, TextWriter log)
    {
        if (strongShare is null == targetPgr is null)
        {
            log.WriteLine("error: give exactly one of --strong-share and --target-pgr");
            return 2;
        }

        if (!File.Exists(dataPath))
        {
            log.WriteLine($"error: no such file: {dataPath} (JSONL, one {{\"prompt\": ...}} or {{\"messages\": [...]}} per line)");
            return 2;
        }

        using var model = ClassifierModel.Load(modelPath);
        var rows = Datasets.ReadPrompts(dataPath);
        if (rows.Count == 0)
        {
            log.WriteLine($"error: {dataPath} holds no prompts");
            return 2;
        }

        var scores = rows.Select(r =>
        {
            using var document = JsonDocument.Parse(r.Request);
            return model.Classify(document.RootElement).NeedsStrong;
        }).ToList();

        if (strongShare is { } share)
        {
            var threshold = Calibration.ForShare(scores, share);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"threshold {threshold:R} sends {Calibration.ShareAtOrAbove(scores, threshold):P1} of {rows.Count} prompts to the strong model (target {share:P1})"));
            return 0;
        }

        if (rows.Any(r => r.Strong is null || r.Weak is null))
        {
            log.WriteLine("error: --target-pgr needs strong_correct and weak_correct on every line");
            return 2;
        }

        var strong = rows.Select(r => r.Strong!.Value).ToList();
        var weak = rows.Select(r => r.Weak!.Value).ToList();
        var (t, s) = Calibration.ForQuality(scores, strong, weak, targetPgr!.Value);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"threshold {t:R} recovers {targetPgr:P0} of the quality gap with {s:P1} of {rows.Count} prompts on the strong model; {RouterCurve.Of(scores, strong, weak).Describe()}"));
        return 0;
    }
}

/// <summary>Which held-out evaluations <c>train</c> runs for the model card.</summary>
[Flags]
internal enum Evaluation
{
    None = 0,
    Categories = 1,
    NeedsStrong = 2,
    All = Categories | NeedsStrong,
}

/// <summary>The model card written next to the model: data, recipe, and the held-out figures with their baselines.</summary>
internal sealed class ModelCard(string version, string categories, string? generated, List<LabelledPrompt> rows, IReadOnlyList<string> preferencePaths,
    List<PreferenceRow> preferences, TrainingOptions options, float l2)
{
    public List<CategoryStudy.Outcome>? Loso { get; set; }
    public List<CategoryStudy.Fold>? LosoFolds { get; set; }
    public List<NeedsStrongStudy.SourceResult>? NeedsStrong { get; set; }

    public void Write(string outDir)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"# Prompt classifier {version}");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture,
            $"Trained by `Gateway.Classifier.Training train` (seed {options.Seed}). Inputs: {options.Features}; token table: all-MiniLM-L6-v2 distilled, PCA {options.TableDimensions}, SIF-weighted, float16; hashed n-grams: `{PromptFeaturizer.Name}`, {PromptFeaturizer.Buckets} buckets. Category head: hidden layer {options.Hidden}, {options.CategoryEpochs} epochs (AdaGrad, lr {options.CategoryLearningRate}), label/language/source-balanced weights. needs_strong: logistic regression on the token-table embedding, {PromptFeaturizer.SignalCount} structural signals and the category probabilities, L2 {l2:G} (chosen by held-out-source cross-validation){(options.GroupIntercepts ? ", one intercept per preference source/subject while training" : "")}.");
        s.AppendLine();
        s.AppendLine("## Data");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture,
            $"Categories: `{categories}`{(generated is null ? "" : $" + generated corpus `{generated}`")}: {rows.Count} prompts, {rows.Select(r => r.Family).Distinct().Count()} source families, {rows.Count(r => !r.English):N0} non-English.");
        s.AppendLine();
        s.AppendLine("| category | prompts | non-English |");
        s.AppendLine("| --- | ---: | ---: |");
        foreach (var label in TrainingRun.Labels)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {rows.Count(r => r.Label == label)} | {rows.Count(r => r.Label == label && !r.English)} |");
        }

        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture,
            $"needs_strong: {string.Join(", ", preferencePaths.Select(p => $"`{Path.GetFileName(p)}`"))} ({preferences.Count} prompts); label = strong model correct and weak model wrong; a quarter of the chat and extraction prompts are added as negatives at weight {options.EasyPriorWeight}.");
        if (Loso is not null && LosoFolds is not null)
        {
            s.AppendLine();
            s.AppendLine(CultureInfo.InvariantCulture, $"## Categories, leave-one-source-out ({LosoFolds.Count} families; each predicted by a model trained without it)");
            s.AppendLine();
            s.Append(CategoryStudy.Summary(rows, Loso, LosoFolds));
            s.AppendLine();
            s.Append(Loso[0].Report(rows).ToMarkdown());
            s.AppendLine();
            s.Append(CategoryStudy.ByGroup(rows, Loso, r => r.Family, "held-out family"));
            s.AppendLine();
            s.Append(CategoryStudy.ByGroup(rows, Loso, r => r.Lang, "language", minRows: 50));
        }

        if (NeedsStrong is not null)
        {
            s.AppendLine();
            s.AppendLine("## needs_strong, held out by source (MMLU: by subject)");
            s.AppendLine();
            s.Append(NeedsStrongStudy.Table(NeedsStrong));
            s.AppendLine();
            s.AppendLine("A random router scores APGR 0.500 and CPT(x) = x. The length router sends the longest prompts to the strong model.");
        }

        File.WriteAllText(Path.Combine(outDir, "model-card.md"), s.ToString());

        var loso = Loso?[0].Report(rows);
        var pooled = NeedsStrong?.LastOrDefault();
        var metrics = new JsonObject
        {
            ["version"] = version,
            ["category_loso_macro_f1"] = loso is null ? null : Math.Round(loso.MacroF1, 4),
            ["category_loso_accuracy"] = loso is null ? null : Math.Round(loso.Accuracy, 4),
            ["needs_strong_heldout_apgr"] = pooled is null ? null : Math.Round(pooled.Model.Apgr, 4),
            ["needs_strong_heldout_cpt50"] = pooled is null ? null : Math.Round(pooled.Model.Cpt50, 4),
        };
        File.WriteAllText(Path.Combine(outDir, "metrics.json"), metrics.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
