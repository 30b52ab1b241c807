using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Classification;

namespace Gateway.Classifier.Training;

/// <summary>A labelled prompt of the category corpus; <see cref="Request"/> is a chat request body.</summary>
internal sealed record CorpusRow(string Category, string Group, bool Test, string Request);

/// <summary>
/// One prompt of the preference data: whether the strong and the weak model answered it correctly.
/// It needs the strong model when only the strong model got it right.
/// </summary>
internal sealed record PreferenceRow(string Source, string Subject, bool StrongCorrect, bool WeakCorrect, bool Test, string Request)
{
    public bool NeedsStrong => StrongCorrect && !WeakCorrect;
}

internal static class Datasets
{
    /// <summary>Reads the category corpus (<c>category</c>, <c>group</c>, <c>split</c>, <c>messages</c> per line).</summary>
    public static List<CorpusRow> ReadCorpus(string path)
    {
        var rows = new List<CorpusRow>();
        foreach (var (line, number) in Lines(path))
        {
            var node = JsonNode.Parse(line) ?? throw new InvalidDataException($"{path}:{number}: empty line");
            var category = (string?)node["category"] ?? throw new InvalidDataException($"{path}:{number}: no category");
            var messages = node["messages"] ?? throw new InvalidDataException($"{path}:{number}: no messages");
            rows.Add(new CorpusRow(
                category,
                (string?)node["group"] ?? $"row{number}",
                (string?)node["split"] == "test",
                new JsonObject { ["messages"] = messages.DeepClone() }.ToJsonString()));
        }

        return rows;
    }

    /// <summary>
    /// Reads preference JSONL files (<c>prompt</c>, <c>strong_correct</c>, <c>weak_correct</c>, optional
    /// <c>source</c>, <c>subject</c>). The held-out split is by subject for subject-tagged data, so it
    /// measures generalisation to subjects the model never saw, and by prompt otherwise.
    /// </summary>
    public static List<PreferenceRow> ReadPreferences(IEnumerable<string> paths)
    {
        var rows = new List<PreferenceRow>();
        foreach (var path in paths)
        {
            foreach (var (line, number) in Lines(path))
            {
                var node = JsonNode.Parse(line) ?? throw new InvalidDataException($"{path}:{number}: empty line");
                var prompt = (string?)node["prompt"] ?? throw new InvalidDataException($"{path}:{number}: no prompt");
                var subject = (string?)node["subject"];
                rows.Add(new PreferenceRow(
                    (string?)node["source"] ?? Path.GetFileNameWithoutExtension(path),
                    subject ?? "",
                    (bool?)node["strong_correct"] ?? throw new InvalidDataException($"{path}:{number}: no strong_correct"),
                    (bool?)node["weak_correct"] ?? throw new InvalidDataException($"{path}:{number}: no weak_correct"),
                    HeldOut(subject ?? prompt),
                    UserRequest(prompt)));
            }
        }

        return rows;
    }

    /// <summary>Reads prompts to score for calibration: chat requests (<c>messages</c>) or <c>prompt</c> lines, with optional correctness.</summary>
    public static List<(string Request, bool? Strong, bool? Weak)> ReadPrompts(string path)
    {
        var rows = new List<(string, bool?, bool?)>();
        foreach (var (line, number) in Lines(path))
        {
            var node = JsonNode.Parse(line) ?? throw new InvalidDataException($"{path}:{number}: empty line");
            var request = node["messages"] is { } messages
                ? new JsonObject { ["messages"] = messages.DeepClone() }.ToJsonString()
                : UserRequest((string?)node["prompt"] ?? throw new InvalidDataException($"{path}:{number}: needs messages or prompt"));
            rows.Add((request, (bool?)node["strong_correct"], (bool?)node["weak_correct"]));
        }

        return rows;
    }

    public static string UserRequest(string prompt) =>
        new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) }.ToJsonString();

    /// <summary>One in five keys, chosen by a hash that does not depend on the run, the seed or the platform.</summary>
    public static bool HeldOut(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key))[0] % 5 == 0;

    private static IEnumerable<(string Line, int Number)> Lines(string path)
    {
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return (line, number);
            }
        }
    }
}

/// <summary>A featurized prompt, as the gateway computes it.</summary>
internal sealed record SparseFeatures(long[] Indices, float[] Values)
{
    private static readonly PromptText Text = new();
    private static readonly long[] IndexBuffer = new long[PromptFeaturizer.MaxFeatures];
    private static readonly float[] ValueBuffer = new float[PromptFeaturizer.MaxFeatures];

    /// <summary>Not thread-safe (shared buffers); training is single-threaded so runs are reproducible.</summary>
    public static SparseFeatures Of(string request)
    {
        using var document = JsonDocument.Parse(request);
        Text.Load(document.RootElement);
        var n = PromptFeaturizer.Featurize(Text, IndexBuffer, ValueBuffer);
        return new SparseFeatures(IndexBuffer[..n], ValueBuffer[..n]);
    }
}
