using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Gateway.Classification;
using Gateway.Retrieval;

namespace Gateway.Classifier.Training;

/// <summary>
/// <c>study</c>: the design comparison behind docs/classifier.md. Featurizes the real corpus once per
/// design and runs <see cref="CategoryStudy"/> on each, printing markdown tables.
/// </summary>
internal static class StudyCommand
{
    public static readonly Dictionary<string, FeatureSet> Designs = new(StringComparer.Ordinal)
    {
        ["ngrams"] = FeatureSet.Ngrams,
        ["table"] = FeatureSet.TokenTable,
        ["table+ngrams"] = FeatureSet.TokenTable | FeatureSet.Ngrams,
        ["minilm"] = FeatureSet.SentenceEmbedding,
        ["minilm+ngrams"] = FeatureSet.SentenceEmbedding | FeatureSet.Ngrams,
    };

    public const int SentenceTokens = 128;

    public static int Run(string categories, string? generated, IReadOnlyList<string> designs, string cacheDir, TrainingOptions options, TextWriter log)
    {
        var unknown = designs.Where(d => !Designs.ContainsKey(d)).ToArray();
        if (unknown.Length > 0)
        {
            log.WriteLine($"error: unknown design(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Designs.Keys)}");
            return 2;
        }

        var rows = RealData.ReadCategories(categories);
        if (generated is not null)
        {
            rows.AddRange(RealData.ReadGenerated(generated));
        }

        log.WriteLine($"rows: {rows.Count} ({rows.Count(r => r.Family == RealData.GeneratedFamily)} generated, training only); families: {rows.Select(r => r.Family).Distinct().Count()}");
        var featurizer = new Featurizer();
        var table = BuildTable(rows, featurizer, options.TableDimensions, cacheDir, log);
        float[][]? sentences = null;
        if (designs.Any(d => Designs[d].HasFlag(FeatureSet.SentenceEmbedding)))
        {
            sentences = SentenceEmbeddings(rows, featurizer, cacheDir, log);
        }

        var folds = CategoryStudy.LeaveOneSourceOut(rows);
        var split = CategoryStudy.StratifiedSplit(rows);
        var loso = new List<CategoryStudy.Outcome>();
        var stratified = new List<CategoryStudy.Outcome>();
        foreach (var design in designs)
        {
            var watch = Stopwatch.StartNew();
            var features = rows.Select((r, i) => featurizer.Features(r.Request, table, Designs[design], sentences?[i])).ToList();
            loso.Add(CategoryStudy.Run(design, rows, features, folds, options, log));
            stratified.Add(CategoryStudy.Run(design, rows, features, [split], options, log));
            log.WriteLine($"{design}: {watch.Elapsed.TotalSeconds:F0} s");
        }

        var plain = rows.Select(r => featurizer.Features(r.Request, null, FeatureSet.None)).ToList();
        loso.AddRange(CategoryStudy.Baselines(rows, plain, folds, options.Seed));
        stratified.AddRange(CategoryStudy.Baselines(rows, plain, [split], options.Seed));

        log.WriteLine();
        log.WriteLine($"## Leave-one-source-out ({folds.Count} families, {folds.Sum(f => f.Test.Length)} prompts, predictions pooled)");
        log.WriteLine();
        log.Write(CategoryStudy.Summary(rows, loso, folds));
        log.WriteLine();
        log.WriteLine($"## Stratified random split ({split.Test.Length} prompts held out)");
        log.WriteLine();
        log.Write(CategoryStudy.Summary(rows, stratified, [split]));
        foreach (var o in loso.Take(designs.Count))
        {
            log.WriteLine();
            log.WriteLine($"### {o.Name}, leave-one-source-out");
            log.WriteLine();
            log.Write(o.Report(rows).ToMarkdown());
        }

        log.WriteLine();
        log.WriteLine("### Accuracy per held-out family");
        log.WriteLine();
        log.Write(CategoryStudy.ByGroup(rows, loso, r => r.Family, "family"));
        log.WriteLine();
        log.WriteLine("### Accuracy per language (leave-one-source-out)");
        log.WriteLine();
        log.Write(CategoryStudy.ByGroup(rows, loso, r => r.Lang, "language", minRows: 50));
        return 0;
    }

    /// <summary>Token counts over the training prompts (label-free), then the distilled table.</summary>
    public static TokenTable BuildTable(IReadOnlyList<LabelledPrompt> rows, Featurizer featurizer, int dimensions, string cacheDir, TextWriter log)
    {
        var counts = new long[MiniLm.ReadVocabularySize()];
        foreach (var row in rows)
        {
            foreach (var t in featurizer.Tokens(row.Request))
            {
                counts[t]++;
            }
        }

        return TokenTable.Build(dimensions, counts, Path.Combine(cacheDir, "minilm-token-rows.f32"), log);
    }

    private static float[][] SentenceEmbeddings(IReadOnlyList<LabelledPrompt> rows, Featurizer featurizer, string cacheDir, TextWriter log)
    {
        var texts = rows.Select(r => featurizer.LastUser(r.Request)).ToArray();
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\u0001", texts))))[..16];
        var path = Path.Combine(cacheDir, $"minilm-sentences-{SentenceTokens}-{key}.f32");
        var dims = MiniLm.Dimensions;
        var flat = new float[rows.Count * dims];
        if (File.Exists(path) && new FileInfo(path).Length == flat.Length * sizeof(float))
        {
            using var file = File.OpenRead(path);
            file.ReadExactly(MemoryMarshal.AsBytes(flat.AsSpan()));
            log.WriteLine($"MiniLM sentence embeddings from {path}");
        }
        else
        {
            log.WriteLine($"MiniLM sentence embeddings of {rows.Count} prompts ({SentenceTokens} tokens; cached at {path})");
            using var embedder = new MiniLmEmbedder();
            var done = 0;
            var watch = Stopwatch.StartNew();
            Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                embedder.Embed(texts[i], SentenceTokens).CopyTo(flat, i * dims);
                if (Interlocked.Increment(ref done) % 2000 == 0)
                {
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {done}/{rows.Count}, {watch.Elapsed.TotalSeconds:F0} s"));
                }
            });
            Directory.CreateDirectory(cacheDir);
            File.WriteAllBytes(path, MemoryMarshal.AsBytes(flat.AsSpan()).ToArray());
        }

        return Enumerable.Range(0, rows.Count).Select(i => flat.AsSpan(i * dims, dims).ToArray()).ToArray();
    }
}
