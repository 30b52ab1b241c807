using System.Globalization;
using System.Text;

namespace Gateway.Classifier.Training;

/// <summary>
/// needs_strong judged on preference data held out by source (GSM8K, ARC, MBPP, Winogrande each
/// whole) and by subject (MMLU's subjects in five groups), beside the prompt-length router and a
/// random one on the same rows. L2 is chosen inside each training side (nested), never on the fold.
/// </summary>
internal static class NeedsStrongStudy
{
    internal sealed record Fold(string Name, string Source, int[] Test);

    internal sealed record SourceResult(string Source, RouterCurve Model, RouterCurve Length, CostCurve? Cost);

    public static List<Fold> Folds(IReadOnlyList<PreferenceRow> rows)
    {
        var folds = new List<Fold>();
        foreach (var source in rows.Select(r => r.Source).Distinct().Order(StringComparer.Ordinal))
        {
            var index = Enumerable.Range(0, rows.Count).Where(i => rows[i].Source == source).ToArray();
            var subjects = index.Select(i => rows[i].Subject).Where(s => s.Length > 0).Distinct().Order(StringComparer.Ordinal).ToArray();
            if (subjects.Length >= 5)
            {
                for (var g = 0; g < 5; g++)
                {
                    var held = subjects.Where((_, k) => k % 5 == g).ToHashSet();
                    folds.Add(new Fold($"{source} subjects {string.Join("+", held)}", source, index.Where(i => held.Contains(rows[i].Subject)).ToArray()));
                }
            }
            else
            {
                folds.Add(new Fold(source, source, index));
            }
        }

        return folds;
    }

    public static float ChooseL2(IReadOnlyList<NeedsStrongLogistic.Example> examples, IReadOnlyList<PreferenceRow> rows, IReadOnlyList<Fold> folds,
        IReadOnlyList<NeedsStrongLogistic.Example> prior, TrainingOptions options, TextWriter log)
    {
        var best = (L2: options.NeedsStrongL2Grid[0], Apgr: double.MinValue);
        foreach (var l2 in options.NeedsStrongL2Grid)
        {
            var apgrs = folds.Select(f => Score(examples, rows, f, prior, l2, options).Apgr).ToList();
            var mean = apgrs.Average();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  needs_strong l2 {l2:G}: mean held-out APGR {mean:F3} over {folds.Count} folds"));
            if (mean > best.Apgr)
            {
                best = (l2, mean);
            }
        }

        return best.L2;
    }

    private static RouterCurve Score(IReadOnlyList<NeedsStrongLogistic.Example> examples, IReadOnlyList<PreferenceRow> rows, Fold fold,
        IReadOnlyList<NeedsStrongLogistic.Example> prior, float l2, TrainingOptions options)
    {
        var scores = Predict(examples, fold, prior, l2, options);
        return RouterCurve.Of(scores, fold.Test.Select(i => rows[i].StrongCorrect).ToList(), fold.Test.Select(i => rows[i].WeakCorrect).ToList());
    }

    private static List<float> Predict(IReadOnlyList<NeedsStrongLogistic.Example> examples, Fold fold, IReadOnlyList<NeedsStrongLogistic.Example> prior, float l2, TrainingOptions options)
    {
        var test = fold.Test.ToHashSet();
        var train = examples.Where((_, i) => !test.Contains(i)).Concat(prior).ToList();
        var model = NeedsStrongLogistic.Train(train, l2, options);
        return fold.Test.Select(i => model.Predict(examples[i].Features, examples[i].CategoryScores)).ToList();
    }

    /// <summary>Held-out scores for every row: each fold's model (L2 chosen on its own training folds) scores the fold.</summary>
    public static List<SourceResult> Run(IReadOnlyList<NeedsStrongLogistic.Example> examples, IReadOnlyList<PreferenceRow> rows,
        IReadOnlyList<NeedsStrongLogistic.Example> prior, TrainingOptions options, TextWriter log)
    {
        var folds = Folds(rows);
        var scores = new float[rows.Count];
        foreach (var fold in folds)
        {
            var inner = Folds(rows.Where((_, i) => !fold.Test.Contains(i)).ToList());
            var trainIndex = Enumerable.Range(0, rows.Count).Where(i => !fold.Test.Contains(i)).ToArray();
            var l2 = folds.Count > 1 && inner.Count > 1
                ? ChooseL2(trainIndex.Select(i => examples[i]).ToList(), trainIndex.Select(i => rows[i]).ToList(), inner, prior, options, TextWriter.Null)
                : options.NeedsStrongL2Grid[0];
            var predicted = Predict(examples, fold, prior, l2, options);
            for (var k = 0; k < fold.Test.Length; k++)
            {
                scores[fold.Test[k]] = predicted[k];
            }

            log.WriteLine($"  needs_strong fold {fold.Name}: l2 {l2}");
        }

        var neighbours = options.NeighbourStudy > 0 ? Neighbours(examples, rows, folds, options.NeighbourStudy) : null;
        var results = new List<SourceResult>();
        foreach (var source in rows.Select(r => r.Source).Distinct().Order(StringComparer.Ordinal))
        {
            var index = Enumerable.Range(0, rows.Count).Where(i => rows[i].Source == source).ToArray();
            var strong = index.Select(i => rows[i].StrongCorrect).ToList();
            var weak = index.Select(i => rows[i].WeakCorrect).ToList();
            var model = RouterCurve.Of(index.Select(i => scores[i]).ToList(), strong, weak);
            var length = RouterCurve.Of(index.Select(i => (float)rows[i].PromptLength).ToList(), strong, weak);
            var cost = index.All(i => rows[i].StrongCost is not null && rows[i].WeakCost is not null)
                ? CostCurve.Of(index.Select(i => scores[i]).ToList(), index.Select(i => rows[i]).ToList())
                : null;
            results.Add(new SourceResult(source, model, length, cost));
            if (neighbours is not null)
            {
                var nn = RouterCurve.Of(index.Select(i => neighbours[i]).ToList(), strong, weak);
                var both = RouterCurve.Of(index.Select(i => scores[i] + neighbours[i]).ToList(), strong, weak);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  neighbour ranker (k={options.NeighbourStudy}) {source}: APGR {nn.Apgr:F3}, CPT(50%) {nn.Cpt50:P1}; model + neighbours APGR {both.Apgr:F3}"));
            }
        }

        var all = Enumerable.Range(0, rows.Count).ToArray();
        results.Add(new SourceResult("all (pooled)",
            RouterCurve.Of(all.Select(i => scores[i]).ToList(), all.Select(i => rows[i].StrongCorrect).ToList(), all.Select(i => rows[i].WeakCorrect).ToList()),
            RouterCurve.Of(all.Select(i => (float)rows[i].PromptLength).ToList(), all.Select(i => rows[i].StrongCorrect).ToList(), all.Select(i => rows[i].WeakCorrect).ToList()),
            null));
        return results;
    }

    /// <summary>
    /// Similarity-weighted ranking (RouteLLM's SW ranking, simplified): each held-out prompt's score is the
    /// similarity-weighted mean of its k nearest training prompts' outcomes, each centred on its own source/subject's rate.
    /// </summary>
    private static float[] Neighbours(IReadOnlyList<NeedsStrongLogistic.Example> examples, IReadOnlyList<PreferenceRow> rows, IReadOnlyList<Fold> folds, int k)
    {
        var unit = examples.Select(e =>
        {
            var v = (float[])e.Features.Dense.Clone();
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            for (var j = 0; j < v.Length; j++)
            {
                v[j] /= norm > 0 ? norm : 1;
            }

            return v;
        }).ToArray();
        var rate = rows.Select((r, i) => (r, i)).GroupBy(x => (x.r.Source, x.r.Subject))
            .ToDictionary(g => g.Key, g => g.Average(x => x.r.NeedsStrong ? 1.0 : 0.0));
        var centred = rows.Select(r => (float)((r.NeedsStrong ? 1.0 : 0.0) - rate[(r.Source, r.Subject)])).ToArray();
        var scores = new float[rows.Count];
        foreach (var fold in folds)
        {
            var test = fold.Test.ToHashSet();
            var train = Enumerable.Range(0, rows.Count).Where(i => !test.Contains(i)).ToArray();
            Parallel.ForEach(fold.Test, i =>
            {
                var sims = new (float Sim, int Index)[train.Length];
                for (var t = 0; t < train.Length; t++)
                {
                    sims[t] = (System.Numerics.Tensors.TensorPrimitives.Dot<float>(unit[i], unit[train[t]]), train[t]);
                }

                Array.Sort(sims, (a, b) => b.Sim.CompareTo(a.Sim));
                double num = 0, den = 0;
                foreach (var (sim, j) in sims.Take(k))
                {
                    var w = Math.Exp(10 * sim);
                    num += w * centred[j];
                    den += w;
                }

                scores[i] = (float)(den > 0 ? num / den : 0);
            });
        }

        return scores;
    }

    public static string Table(IReadOnlyList<SourceResult> results)
    {
        var s = new StringBuilder();
        s.AppendLine("| held-out source | prompts | weak correct | strong correct | APGR | length router APGR | random APGR | CPT(50%) | length CPT(50%) | CPT(80%) | length CPT(80%) |");
        s.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Source} | {r.Model.Count} | {r.Model.WeakQuality:P1} | {r.Model.StrongQuality:P1} | **{r.Model.Apgr:F3}** | {r.Length.Apgr:F3} | 0.500 | {r.Model.Cpt50:P1} | {r.Length.Cpt50:P1} | {r.Model.Cpt80:P1} | {r.Length.Cpt80:P1} |"));
        }

        var costs = results.Where(r => r.Cost is not null).ToList();
        if (costs.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("Cost and quality on the RouterBench sources (gpt-4-1106-preview vs Mixtral-8x7B, their recorded cost per call), held-out scores:");
            s.AppendLine();
            s.AppendLine("| source | strong share | quality | cost vs all-strong |");
            s.AppendLine("| --- | ---: | ---: | ---: |");
            foreach (var r in costs)
            {
                foreach (var (share, quality, cost) in r.Cost!.Points)
                {
                    s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Source} | {share:P0} | {quality:P1} | {cost:P1} |"));
                }
            }
        }

        return s.ToString();
    }
}

/// <summary>Quality and cost (relative to sending everything to the strong model) at a few shares of strong calls.</summary>
internal sealed record CostCurve(IReadOnlyList<(double Share, double Quality, double Cost)> Points)
{
    public static CostCurve Of(IReadOnlyList<float> scores, IReadOnlyList<PreferenceRow> rows)
    {
        var order = Enumerable.Range(0, rows.Count).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var allStrong = rows.Sum(r => r.StrongCost!.Value);
        var points = new List<(double, double, double)>();
        foreach (var share in new[] { 0.0, 0.1, 0.2, 0.3, 0.5, 1.0 })
        {
            var k = (int)Math.Round(share * rows.Count);
            var strong = order.Take(k).ToHashSet();
            var quality = rows.Select((r, i) => strong.Contains(i) ? r.StrongCorrect : r.WeakCorrect).Count(c => c) / (double)rows.Count;
            var cost = rows.Select((r, i) => strong.Contains(i) ? r.StrongCost!.Value : r.WeakCost!.Value).Sum() / allStrong;
            points.Add((share, quality, cost));
        }

        return new CostCurve(points);
    }
}
