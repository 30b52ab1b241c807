using System.Globalization;
using System.Text;

namespace Gateway.Classifier.Training;

/// <summary>Per-class precision, recall and F1, and the confusion matrix (rows: truth, columns: prediction).</summary>
internal sealed class ClassificationReport
{
    public ClassificationReport(IReadOnlyList<string> labels, IReadOnlyList<int> truth, IReadOnlyList<int> predicted)
    {
        Labels = labels;
        Confusion = new int[labels.Count, labels.Count];
        for (var i = 0; i < truth.Count; i++)
        {
            Confusion[truth[i], predicted[i]]++;
        }

        Count = truth.Count;
        Accuracy = Count == 0 ? 0 : Enumerable.Range(0, labels.Count).Sum(c => Confusion[c, c]) / (double)Count;
        PerClass = Enumerable.Range(0, labels.Count).Select(c =>
        {
            var tp = Confusion[c, c];
            var support = Enumerable.Range(0, labels.Count).Sum(p => Confusion[c, p]);
            var predictedCount = Enumerable.Range(0, labels.Count).Sum(t => Confusion[t, c]);
            var precision = predictedCount == 0 ? 0 : tp / (double)predictedCount;
            var recall = support == 0 ? 0 : tp / (double)support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            return (precision, recall, f1, support);
        }).ToArray();
        MacroF1 = PerClass.Average(c => c.F1);
    }

    public IReadOnlyList<string> Labels { get; }
    public int[,] Confusion { get; }
    public int Count { get; }
    public double Accuracy { get; }
    public double MacroF1 { get; }
    public (double Precision, double Recall, double F1, int Support)[] PerClass { get; }

    public string ToMarkdown()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"Accuracy {Accuracy:P1}, macro F1 {MacroF1:F3} on {Count} prompts.");
        s.AppendLine();
        s.AppendLine("| category | precision | recall | F1 | support |");
        s.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        for (var c = 0; c < Labels.Count; c++)
        {
            var (p, r, f, n) = PerClass[c];
            s.AppendLine(CultureInfo.InvariantCulture, $"| {Labels[c]} | {p:F3} | {r:F3} | {f:F3} | {n} |");
        }

        s.AppendLine();
        s.AppendLine("Confusion matrix (rows: true category, columns: predicted):");
        s.AppendLine();
        s.AppendLine("| true \\ predicted | " + string.Join(" | ", Labels) + " |");
        s.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", Labels.Count)));
        for (var t = 0; t < Labels.Count; t++)
        {
            s.Append(CultureInfo.InvariantCulture, $"| {Labels[t]} |");
            for (var p = 0; p < Labels.Count; p++)
            {
                s.Append(CultureInfo.InvariantCulture, $" {Confusion[t, p]} |");
            }

            s.AppendLine();
        }

        return s.ToString();
    }
}

/// <summary>
/// RouteLLM's router metrics. Prompts are sent to the strong model in order of decreasing score;
/// for each share of strong calls, quality is the mean correctness of the model each prompt went to.
/// PGR (performance gap recovered) rescales quality so the weak model scores 0 and the strong 1.
/// APGR is the area under PGR over the share of strong calls (0.5 for a random router);
/// CPT(x) is the smallest share of strong calls whose PGR reaches x.
/// </summary>
internal sealed record RouterCurve(int Count, double WeakQuality, double StrongQuality, double Apgr, double Cpt50, double Cpt80, double[] Shares, double[] Pgr)
{
    public static RouterCurve Of(IReadOnlyList<float> scores, IReadOnlyList<bool> strong, IReadOnlyList<bool> weak)
    {
        var n = scores.Count;
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var weakTotal = weak.Count(w => w);
        var strongTotal = strong.Count(s => s);
        var gap = (double)(strongTotal - weakTotal);
        var shares = new List<double> { 0 };
        var pgr = new List<double> { 0 };
        var correct = (double)weakTotal;
        var k = 0;
        while (k < n)
        {
            // Prompts with equal scores go to the strong model together: a threshold cannot split them.
            var score = scores[order[k]];
            while (k < n && scores[order[k]] == score)
            {
                correct += (strong[order[k]] ? 1 : 0) - (weak[order[k]] ? 1 : 0);
                k++;
            }

            shares.Add(k / (double)n);
            pgr.Add(gap == 0 ? 0 : (correct - weakTotal) / gap);
        }

        var area = 0.0;
        for (var i = 1; i < shares.Count; i++)
        {
            area += (shares[i] - shares[i - 1]) * (pgr[i] + pgr[i - 1]) / 2;
        }

        return new RouterCurve(n, weakTotal / (double)n, strongTotal / (double)n, area,
            CallsToReach(shares, pgr, 0.5), CallsToReach(shares, pgr, 0.8), [.. shares], [.. pgr]);
    }

    private static double CallsToReach(List<double> shares, List<double> pgr, double target)
    {
        for (var i = 0; i < shares.Count; i++)
        {
            if (pgr[i] >= target)
            {
                return shares[i];
            }
        }

        return 1;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Count} prompts: weak {WeakQuality:P1}, strong {StrongQuality:P1} correct; APGR {Apgr:F3} (random 0.500), CPT(50%) {Cpt50:P1}, CPT(80%) {Cpt80:P1}");
}

/// <summary>RouteLLM's calibrate_threshold: the needs_strong threshold that sends a target share of prompts (or reaches a target quality) to the strong model.</summary>
internal static class Calibration
{
    /// <summary>The lowest score among the top <paramref name="share"/> of prompts: routing at score ≥ threshold sends about that share.</summary>
    public static float ForShare(IReadOnlyList<float> scores, double share)
    {
        var sorted = scores.OrderByDescending(s => s).ToArray();
        if (share <= 0)
        {
            return float.BitIncrement(sorted[0]);
        }

        var k = Math.Clamp((int)Math.Ceiling(share * sorted.Length), 1, sorted.Length);
        return sorted[k - 1];
    }

    /// <summary>The threshold at the smallest share of strong calls whose PGR reaches <paramref name="targetPgr"/>.</summary>
    public static (float Threshold, double Share) ForQuality(IReadOnlyList<float> scores, IReadOnlyList<bool> strong, IReadOnlyList<bool> weak, double targetPgr)
    {
        var curve = RouterCurve.Of(scores, strong, weak);
        for (var i = 0; i < curve.Shares.Length; i++)
        {
            if (curve.Pgr[i] >= targetPgr)
            {
                return (ForShare(scores, curve.Shares[i]), curve.Shares[i]);
            }
        }

        return (ForShare(scores, 1), 1);
    }

    public static double ShareAtOrAbove(IReadOnlyList<float> scores, float threshold) =>
        scores.Count(s => s >= threshold) / (double)scores.Count;
}
