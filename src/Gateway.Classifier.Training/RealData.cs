using System.Text.Json.Nodes;

namespace Gateway.Classifier.Training;

/// <summary>
/// A labelled prompt from <c>shared/data/categories/</c> (or the generated corpus): the request the
/// gateway would see, its label, the file it came from, the source family it is held out with, and
/// its language (ISO 639-1, or <c>gen</c> for generated rows).
/// </summary>
internal sealed record LabelledPrompt(string Request, string Label, string Source, string Family, string Lang)
{
    public bool English => Lang == "en";
}

internal static class RealData
{
    public const string GeneratedFamily = "generated";

    /// <summary>
    /// Files that come from one dataset are held out together, so a fold never trains on a sibling of
    /// its test file (CLINC150's intents, XQuAD's passages, Xpersona's dialogues, awesome-chatgpt-prompts' roles).
    /// </summary>
    public static string FamilyOf(string file) => file switch
    {
        _ when file.StartsWith("clinc150", StringComparison.Ordinal) => "clinc150",
        _ when file.StartsWith("xquad", StringComparison.Ordinal) => "xquad",
        _ when file.StartsWith("xpersona", StringComparison.Ordinal) => "xpersona",
        _ when file.StartsWith("awesome-chatgpt-prompts", StringComparison.Ordinal) => "awesome-chatgpt-prompts",
        _ => file,
    };

    /// <summary>
    /// Reads every <c>*.jsonl</c> of a categories folder (text, label, source, lang, optional messages), each
    /// file a source; or one file, whose rows' <c>source</c> repositories are the sources.
    /// </summary>
    public static List<LabelledPrompt> ReadCategories(string folderOrFile)
    {
        if (File.Exists(folderOrFile))
        {
            return ReadFile(folderOrFile, bySourceField: true);
        }

        var rows = new List<LabelledPrompt>();
        foreach (var path in Directory.GetFiles(folderOrFile, "*.jsonl").Order(StringComparer.Ordinal))
        {
            rows.AddRange(ReadFile(path, bySourceField: false));
        }

        return rows;
    }

    private static List<LabelledPrompt> ReadFile(string path, bool bySourceField)
    {
        var rows = new List<LabelledPrompt>();
        var file = Path.GetFileNameWithoutExtension(path);
        foreach (var (line, number) in Datasets.Lines(path))
        {
            var node = JsonNode.Parse(line) ?? throw new InvalidDataException($"{path}:{number}: empty line");
            var text = (string?)node["text"] ?? throw new InvalidDataException($"{path}:{number}: no text");
            var label = (string?)node["label"] ?? throw new InvalidDataException($"{path}:{number}: no label");
            var request = node["messages"] is JsonArray messages
                ? new JsonObject { ["messages"] = messages.DeepClone() }.ToJsonString()
                : Datasets.UserRequest(text);
            var source = bySourceField ? ((string?)node["source"] ?? file).Split(':')[0] : file;
            rows.Add(new LabelledPrompt(request, label, source, bySourceField ? source : FamilyOf(file), (string?)node["lang"] ?? "en"));
        }

        return rows;
    }

    /// <summary>The generated corpus (<c>Corpus/categories.jsonl</c>) as one more family, for training mixes that include it.</summary>
    public static List<LabelledPrompt> ReadGenerated(string path) =>
        Datasets.ReadCorpus(path).Select(r => new LabelledPrompt(r.Request, r.Category, GeneratedFamily, GeneratedFamily, "gen")).ToList();

    /// <summary>
    /// Per-row training weights: every label carries the same total weight; within a label, non-English
    /// rows carry the corpus-wide non-English share (so a label that is 42% non-English, or 1%, does not
    /// teach "foreign means chat"); within that, each source counts by the square root of its size, so
    /// one 2,000-row source does not define a label. Each factor is capped at 5× the plain weight.
    /// </summary>
    public static float[] BalancedWeights(IReadOnlyList<LabelledPrompt> rows, double sourcePower = 0.5)
    {
        var n = rows.Count;
        var weights = new float[n];
        var foreignShare = Math.Clamp(rows.Count(r => !r.English) / (double)n, 0.05, 0.5);
        var labels = rows.Select(r => r.Label).Distinct().ToArray();
        foreach (var label in labels)
        {
            var index = Enumerable.Range(0, n).Where(i => rows[i].Label == label).ToArray();
            var labelWeight = (double)n / labels.Length;
            foreach (var english in new[] { true, false })
            {
                var part = index.Where(i => rows[i].English == english).ToArray();
                if (part.Length == 0)
                {
                    continue;
                }

                var target = labelWeight * (english ? 1 - foreignShare : foreignShare);
                // Cap: a handful of rows must not be multiplied into a label's definition.
                target = Math.Min(target, part.Length * 5.0 * labelWeight / index.Length);
                var sources = part.GroupBy(i => rows[i].Source).ToArray();
                var norm = sources.Sum(g => Math.Pow(g.Count(), sourcePower));
                foreach (var source in sources)
                {
                    var perRow = target * Math.Pow(source.Count(), sourcePower) / norm / source.Count();
                    foreach (var i in source)
                    {
                        weights[i] = (float)perRow;
                    }
                }
            }
        }

        var mean = weights.Average();
        for (var i = 0; i < n; i++)
        {
            weights[i] /= mean;
        }

        return weights;
    }
}
