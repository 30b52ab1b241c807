using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Classification;

namespace Gateway.Classifier.Training;

/// <summary>The commands: train (and evaluate what it wrote), evaluate a model, calibrate a threshold.</summary>
internal static class TrainingRun
{
    /// <summary>The contract's categories (issue: classifier outputs), in the order the model emits them.</summary>
    public static readonly string[] Labels = [.. PromptCategories.All];

    private static readonly string[] EasyCategories = ["chat", "extraction"];

    /// <summary>
    /// Tunes on a validation split carved from the training split by group (a fifth of the templates),
    /// never the held-out split; prints validation accuracy per epoch and writes nothing.
    /// </summary>
    public static int Validate(string corpusPath, TrainingOptions options, TextWriter log)
    {
        var train = Datasets.ReadCorpus(corpusPath).Where(r => !r.Test).ToList();
        var isValidation = train.Select(r => System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(r.Group))[2] % 5 == 0).ToArray();
        var fit = train.Where((_, i) => !isValidation[i]).ToList();
        var validation = train.Where((_, i) => isValidation[i]).ToList();
        log.WriteLine($"validation run: {fit.Count} fit, {validation.Count} validation prompts (held-out split untouched)");
        CategoryMlp.Train(
            fit.Select(r => SparseFeatures.Of(r.Request)).ToList(), fit.Select(r => Array.IndexOf(Labels, r.Category)).ToList(), Labels.Length, options, log,
            validation.Select(r => SparseFeatures.Of(r.Request)).ToList(), validation.Select(r => Array.IndexOf(Labels, r.Category)).ToList());
        return 0;
    }

    public static int Train(string corpusPath, IReadOnlyList<string> preferencePaths, string outDir, TrainingOptions options, TextWriter log)
    {
        var corpus = Datasets.ReadCorpus(corpusPath);
        var unknown = corpus.Select(r => r.Category).Distinct().Except(Labels).ToArray();
        if (unknown.Length > 0)
        {
            log.WriteLine($"error: {corpusPath} has categories outside the contract: {string.Join(", ", unknown)}");
            return 2;
        }

        var train = corpus.Where(r => !r.Test).ToList();
        log.WriteLine($"corpus {corpusPath}: {corpus.Count} prompts, {train.Count} train, {corpus.Count - train.Count} held out");
        var x = train.Select(r => SparseFeatures.Of(r.Request)).ToList();
        var y = train.Select(r => Array.IndexOf(Labels, r.Category)).ToList();
        var mlp = CategoryMlp.Train(x, y, Labels.Length, options, log);

        var preferences = Datasets.ReadPreferences(preferencePaths);
        var prefTrain = preferences.Where(p => !p.Test).ToList();
        log.WriteLine($"preferences: {preferences.Count} prompts, {prefTrain.Count} train, {preferences.Count - prefTrain.Count} held out (by subject)");
        var examples = prefTrain
            .Select(p => Example(mlp, p.Request, p.NeedsStrong, 1f))
            .ToList();
        var priorExamples = train
            .Where(r => EasyCategories.Contains(r.Category))
            .Select(r => Example(mlp, r.Request, false, options.EasyPriorWeight))
            .ToList();

        var l2 = ChooseL2(prefTrain, examples, priorExamples, options, log);
        var strong = NeedsStrongLogistic.Train([.. examples, .. priorExamples], l2, options);

        Directory.CreateDirectory(outDir);
        var modelPath = Path.Combine(outDir, "classifier.onnx");
        var version = OnnxExport.Write(modelPath, mlp, strong, Labels);
        File.WriteAllText(Path.Combine(outDir, "labels.json"), JsonSerializer.Serialize(Labels, ClassifierJsonContext.Default.StringArray) + "\n");
        log.WriteLine($"wrote {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB), version {version}");

        // Everything below is measured through the exported ONNX file, by the gateway's own runner.
        using var model = ClassifierModel.Load(modelPath);
        var drift = MaxDrift(model, mlp, strong, corpus.Take(200).Select(r => r.Request));
        log.WriteLine($"ONNX vs trainer arithmetic: max |difference| {drift:E1}");
        var report = Evaluate(model, corpus, preferences, log);
        WriteCard(outDir, version, corpusPath, corpus, preferencePaths, preferences, options, l2, report);
        return 0;
    }

    private static NeedsStrongLogistic.Example Example(CategoryMlp mlp, string request, bool label, float weight)
    {
        var features = SparseFeatures.Of(request);
        return new NeedsStrongLogistic.Example(features, mlp.Predict(features), label, weight);
    }

    /// <summary>Picks L2 by 4-fold cross-validation on the training split, folds grouped by subject (never the held-out split).</summary>
    private static float ChooseL2(List<PreferenceRow> rows, List<NeedsStrongLogistic.Example> examples, List<NeedsStrongLogistic.Example> prior, TrainingOptions options, TextWriter log)
    {
        if (rows.Count == 0)
        {
            return options.NeedsStrongL2Grid[^1];
        }

        var folds = rows.Select(r => (int)(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(r.Subject.Length > 0 ? r.Subject : r.Request))[1] % 4)).ToArray();
        var best = (L2: options.NeedsStrongL2Grid[0], Apgr: double.MinValue);
        foreach (var l2 in options.NeedsStrongL2Grid)
        {
            var apgrs = new List<double>();
            for (var fold = 0; fold < 4; fold++)
            {
                var fit = examples.Where((_, i) => folds[i] != fold).Concat(prior).ToList();
                var test = Enumerable.Range(0, rows.Count).Where(i => folds[i] == fold).ToList();
                if (test.Count == 0 || fit.Count == 0)
                {
                    continue;
                }

                var model = NeedsStrongLogistic.Train(fit, l2, options);
                var scores = test.Select(i => model.Predict(examples[i].Features, examples[i].CategoryScores)).ToList();
                apgrs.Add(RouterCurve.Of(scores, test.Select(i => rows[i].StrongCorrect).ToList(), test.Select(i => rows[i].WeakCorrect).ToList()).Apgr);
            }

            var mean = apgrs.Count == 0 ? 0 : apgrs.Average();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  needs_strong l2 {l2:G}: cross-validated APGR {mean:F3}"));
            if (mean > best.Apgr)
            {
                best = (l2, mean);
            }
        }

        return best.L2;
    }

    private static double MaxDrift(ClassifierModel model, CategoryMlp mlp, NeedsStrongLogistic strong, IEnumerable<string> requests)
    {
        var max = 0.0;
        foreach (var request in requests)
        {
            using var document = JsonDocument.Parse(request);
            var onnx = model.Classify(document.RootElement);
            var features = SparseFeatures.Of(request);
            var p = mlp.Predict(features);
            for (var c = 0; c < Labels.Length; c++)
            {
                max = Math.Max(max, Math.Abs(p[c] - onnx.Scores[Labels[c]]));
            }

            max = Math.Max(max, Math.Abs(strong.Predict(features, p) - onnx.NeedsStrong));
        }

        return max;
    }

    internal sealed record Report(ClassificationReport Test, ClassificationReport Train, RouterCurve? PreferenceTest, RouterCurve? PreferenceTrain, IReadOnlyDictionary<string, RouterCurve> PerSource);

    public static Report Evaluate(ClassifierModel model, List<CorpusRow> corpus, List<PreferenceRow> preferences, TextWriter log)
    {
        ClassificationReport Categories(IEnumerable<CorpusRow> rows)
        {
            var list = rows.ToList();
            var predicted = list.Select(r =>
            {
                using var document = JsonDocument.Parse(r.Request);
                return model.Labels.ToList().IndexOf(model.Classify(document.RootElement).Category);
            }).ToList();
            return new ClassificationReport(model.Labels, list.Select(r => model.Labels.ToList().IndexOf(r.Category)).ToList(), predicted);
        }

        var test = Categories(corpus.Where(r => r.Test));
        var trainReport = Categories(corpus.Where(r => !r.Test));
        log.WriteLine($"categories, held out: accuracy {test.Accuracy:P1}, macro F1 {test.MacroF1:F3} ({test.Count} prompts); train accuracy {trainReport.Accuracy:P1}");

        RouterCurve? Curve(IEnumerable<PreferenceRow> rows)
        {
            var list = rows.ToList();
            if (list.Count == 0)
            {
                return null;
            }

            var scores = list.Select(r =>
            {
                using var document = JsonDocument.Parse(r.Request);
                return model.Classify(document.RootElement).NeedsStrong;
            }).ToList();
            return RouterCurve.Of(scores, list.Select(r => r.StrongCorrect).ToList(), list.Select(r => r.WeakCorrect).ToList());
        }

        var prefTest = Curve(preferences.Where(p => p.Test));
        var prefTrain = Curve(preferences.Where(p => !p.Test));
        var perSource = preferences.Where(p => p.Test).GroupBy(p => p.Source)
            .ToDictionary(g => g.Key, g => Curve(g)!);
        if (prefTest is not null)
        {
            log.WriteLine($"needs_strong, held out: {prefTest.Describe()}");
            foreach (var (source, curve) in perSource)
            {
                log.WriteLine($"  {source}: {curve.Describe()}");
            }

            log.WriteLine($"needs_strong, train: {prefTrain!.Describe()}");
        }

        return new Report(test, trainReport, prefTest, prefTrain, perSource);
    }

    private static void WriteCard(string outDir, string version, string corpusPath, List<CorpusRow> corpus, IReadOnlyList<string> preferencePaths,
        List<PreferenceRow> preferences, TrainingOptions options, float l2, Report report)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"# Prompt classifier {version}");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Trained {DateTime.UtcNow:yyyy-MM-dd} by `Gateway.Classifier.Training train` (seed {options.Seed}). Featurizer `{PromptFeaturizer.Name}`, {PromptFeaturizer.Buckets} hash buckets, hidden layer {options.Hidden}, {options.CategoryEpochs} epochs (AdaGrad, lr {options.CategoryLearningRate}); needs_strong: logistic regression, L2 {l2:G} chosen by subject-grouped 4-fold cross-validation on the training split.");
        s.AppendLine();
        s.AppendLine("## Data");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Categories: `{corpusPath}` ({corpus.Count} prompts; held-out split by template, never used for fitting or tuning).");
        s.AppendLine();
        s.AppendLine("| category | train | held out |");
        s.AppendLine("| --- | ---: | ---: |");
        foreach (var label in Labels)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {corpus.Count(r => r.Category == label && !r.Test)} | {corpus.Count(r => r.Category == label && r.Test)} |");
        }

        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"needs_strong: {string.Join(", ", preferencePaths.Select(p => $"`{Path.GetFileName(p)}`"))} ({preferences.Count} prompts, {preferences.Count(p => p.Test)} held out by subject); label = strong model correct and weak model wrong. Chat and extraction prompts of the category corpus are added as negatives at weight {options.EasyPriorWeight}.");
        s.AppendLine();
        s.AppendLine("## Categories, held-out split");
        s.AppendLine();
        s.Append(report.Test.ToMarkdown());
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Training split accuracy: {report.Train.Accuracy:P1}.");
        if (report.PreferenceTest is { } curve)
        {
            s.AppendLine();
            s.AppendLine("## needs_strong, held-out preference data");
            s.AppendLine();
            s.AppendLine("| data | prompts | weak correct | strong correct | APGR | CPT(50%) | CPT(80%) |");
            s.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            void Row(string name, RouterCurve c) => s.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {c.Count} | {c.WeakQuality:P1} | {c.StrongQuality:P1} | {c.Apgr:F3} | {c.Cpt50:P1} | {c.Cpt80:P1} |");
            Row("all held out", curve);
            foreach (var (source, c) in report.PerSource)
            {
                Row(source, c);
            }

            Row("training split", report.PreferenceTrain!);
            s.AppendLine();
            s.AppendLine("A random router scores APGR 0.500 and CPT(50%) 50%.");
        }

        File.WriteAllText(Path.Combine(outDir, "model-card.md"), s.ToString());

        var metrics = new JsonObject
        {
            ["version"] = version,
            ["category_accuracy"] = Math.Round(report.Test.Accuracy, 4),
            ["category_macro_f1"] = Math.Round(report.Test.MacroF1, 4),
            ["needs_strong_apgr"] = report.PreferenceTest is null ? null : Math.Round(report.PreferenceTest.Apgr, 4),
            ["needs_strong_cpt50"] = report.PreferenceTest is null ? null : Math.Round(report.PreferenceTest.Cpt50, 4),
        };
        File.WriteAllText(Path.Combine(outDir, "metrics.json"), metrics.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static int EvaluateCommand(string modelPath, string corpusPath, IReadOnlyList<string> preferencePaths, TextWriter log)
    {
        using var model = ClassifierModel.Load(modelPath);
        log.WriteLine($"model {modelPath}, version {model.Version}");
        var report = Evaluate(model, Datasets.ReadCorpus(corpusPath), Datasets.ReadPreferences(preferencePaths), log);
        log.WriteLine();
        log.Write(report.Test.ToMarkdown());
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
