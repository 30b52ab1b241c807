using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gateway.Classification;

namespace Gateway.Classifier.Training;

/// <summary>
/// Judges category designs on data the model's authors did not write: leave-one-source-out over the
/// real source families (train without a family, predict it; predictions pooled over all folds) and a
/// stratified random split, each printed beside the majority-class, random and prompt-length
/// baselines computed on the same rows.
/// </summary>
internal static class CategoryStudy
{
    public static readonly string[] Labels = [.. PromptCategories.All];

    internal sealed record Prediction(int Row, int Truth, int Predicted, float Confidence);

    internal sealed record Outcome(string Name, List<Prediction> Predictions)
    {
        public ClassificationReport Report(IReadOnlyList<LabelledPrompt> rows, Func<LabelledPrompt, bool>? filter = null)
        {
            var kept = Predictions.Where(p => filter is null || filter(rows[p.Row])).ToList();
            return new ClassificationReport(Labels, kept.Select(p => p.Truth).ToList(), kept.Select(p => p.Predicted).ToList());
        }
    }

    /// <summary>Which rows a fold tests on; the rest (plus any training-only rows) train.</summary>
    internal sealed record Fold(string Name, int[] Test);

    public static List<Fold> LeaveOneSourceOut(IReadOnlyList<LabelledPrompt> rows) =>
        rows.Select((r, i) => (r, i)).Where(x => x.r.Family != RealData.GeneratedFamily)
            .GroupBy(x => x.r.Family).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Fold(g.Key, g.Select(x => x.i).ToArray())).ToList();

    /// <summary>A fifth of each label's real rows, chosen by a hash of the prompt (independent of run and seed).</summary>
    public static Fold StratifiedSplit(IReadOnlyList<LabelledPrompt> rows) =>
        new("stratified", Enumerable.Range(0, rows.Count)
            .Where(i => rows[i].Family != RealData.GeneratedFamily && SHA256.HashData(Encoding.UTF8.GetBytes(rows[i].Request))[0] % 5 == 0)
            .ToArray());

    /// <summary>Trains one model per fold (two at a time) and pools the held-out predictions.</summary>
    public static Outcome Run(string name, IReadOnlyList<LabelledPrompt> rows, IReadOnlyList<PromptFeatures> features, IReadOnlyList<Fold> folds,
        TrainingOptions options, TextWriter log)
    {
        var predictions = new List<Prediction>();
        var y = rows.Select(r => Array.IndexOf(Labels, r.Label)).ToArray();
        Parallel.ForEach(folds, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, fold =>
        {
            var test = fold.Test.ToHashSet();
            var train = Enumerable.Range(0, rows.Count).Where(i => !test.Contains(i)).ToArray();
            var trainRows = train.Select(i => rows[i]).ToList();
            var model = CategoryMlp.Train(train.Select(i => features[i]).ToList(), train.Select(i => y[i]).ToList(),
                RealData.BalancedWeights(trainRows, options.SourcePower), Labels.Length, options, TextWriter.Null);
            var local = fold.Test.Select(i =>
            {
                var p = model.Predict(features[i]);
                var best = CategoryMlp.ArgMax(p);
                return new Prediction(i, y[i], best, p[best]);
            }).ToList();
            var right = local.Count(p => p.Truth == p.Predicted);
            lock (predictions)
            {
                predictions.AddRange(local);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name} / {fold.Name}: {right}/{local.Count} ({(double)right / local.Count:P1})"));
            }
        });
        predictions.Sort((a, b) => a.Row.CompareTo(b.Row));
        return new Outcome(name, predictions);
    }

    /// <summary>The three baselines on the same folds: the training side's majority label, a seeded uniform guess, and the majority label per log2 prompt length.</summary>
    public static IEnumerable<Outcome> Baselines(IReadOnlyList<LabelledPrompt> rows, IReadOnlyList<PromptFeatures> features, IReadOnlyList<Fold> folds, int seed)
    {
        var y = rows.Select(r => Array.IndexOf(Labels, r.Label)).ToArray();
        var lengthBin = features.Select(f => Array.IndexOf(f.Signals, 1f, 0, 15)).ToArray();
        var majority = new List<Prediction>();
        var random = new List<Prediction>();
        var length = new List<Prediction>();
        var rng = new Random(seed);
        foreach (var fold in folds)
        {
            var test = fold.Test.ToHashSet();
            var train = Enumerable.Range(0, rows.Count).Where(i => !test.Contains(i)).ToArray();
            var top = train.GroupBy(i => y[i]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
            var byLength = train.GroupBy(i => lengthBin[i])
                .ToDictionary(g => g.Key, g => g.GroupBy(i => y[i]).OrderByDescending(h => h.Count()).ThenBy(h => h.Key).First().Key);
            foreach (var i in fold.Test)
            {
                majority.Add(new Prediction(i, y[i], top, 1));
                random.Add(new Prediction(i, y[i], rng.Next(Labels.Length), 1f / Labels.Length));
                length.Add(new Prediction(i, y[i], byLength.GetValueOrDefault(lengthBin[i], top), 1));
            }
        }

        yield return new Outcome("majority class", majority);
        yield return new Outcome("random", random);
        yield return new Outcome("prompt length", length);
    }

    public static string Summary(IReadOnlyList<LabelledPrompt> rows, IReadOnlyList<Outcome> outcomes, IReadOnlyList<Fold> folds)
    {
        var s = new StringBuilder();
        s.AppendLine("| design | macro-F1 | accuracy | mean fold accuracy | English accuracy | non-English accuracy |");
        s.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var o in outcomes)
        {
            var all = o.Report(rows);
            var byFold = folds.Select(f => f.Test.ToHashSet()).Select(t => o.Predictions.Where(p => t.Contains(p.Row)).ToList())
                .Where(l => l.Count > 0).Select(l => l.Count(p => p.Truth == p.Predicted) / (double)l.Count).ToList();
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {o.Name} | {all.MacroF1:F3} | {all.Accuracy:P1} | {byFold.Average():P1} | {o.Report(rows, r => r.English).Accuracy:P1} | {o.Report(rows, r => !r.English).Accuracy:P1} |"));
        }

        return s.ToString();
    }

    /// <summary>Accuracy per group (source family, language) for each outcome, side by side.</summary>
    public static string ByGroup(IReadOnlyList<LabelledPrompt> rows, IReadOnlyList<Outcome> outcomes, Func<LabelledPrompt, string> key, string title, int minRows = 1)
    {
        var s = new StringBuilder();
        s.AppendLine($"| {title} | rows | labels | " + string.Join(" | ", outcomes.Select(o => o.Name)) + " |");
        s.AppendLine("| --- | ---: | --- |" + string.Concat(Enumerable.Repeat(" ---: |", outcomes.Count)));
        var rowsInOutcome = outcomes[0].Predictions.Select(p => p.Row).ToHashSet();
        foreach (var group in rowsInOutcome.GroupBy(i => key(rows[i])).Where(g => g.Count() >= minRows).OrderByDescending(g => g.Count()))
        {
            var members = group.ToHashSet();
            var labels = string.Join(", ", group.GroupBy(i => rows[i].Label).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));
            s.Append(CultureInfo.InvariantCulture, $"| {group.Key} | {members.Count} | {labels} |");
            foreach (var o in outcomes)
            {
                var kept = o.Predictions.Where(p => members.Contains(p.Row)).ToList();
                s.Append(CultureInfo.InvariantCulture, $" {kept.Count(p => p.Truth == p.Predicted) / (double)kept.Count:P1} |");
            }

            s.AppendLine();
        }

        return s.ToString();
    }
}
