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
internal sealed record PreferenceRow(string Source, string Subject, bool StrongCorrect, bool WeakCorrect, string Request, int PromptLength,
    double? StrongCost = null, double? WeakCost = null)
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
    /// Reads preference JSONL files (<c>prompt</c> or <c>question</c>, <c>strong_correct</c>, <c>weak_correct</c>,
    /// optional <c>source</c>, <c>subject</c>, <c>strong_cost</c>, <c>weak_cost</c>). Where a file has both, the
    /// <c>question</c> is used: RouterBench's prompts carry a fixed few-shot prefix no user sends. Rows without
    /// correctness (RouterBench has a few) are skipped.
    /// </summary>
    public static List<PreferenceRow> ReadPreferences(IEnumerable<string> paths)
    {
        var rows = new List<PreferenceRow>();
        foreach (var path in paths)
        {
            foreach (var (line, number) in Lines(path))
            {
                var node = JsonNode.Parse(line) ?? throw new InvalidDataException($"{path}:{number}: empty line");
                var prompt = (string?)node["question"] ?? (string?)node["prompt"] ?? throw new InvalidDataException($"{path}:{number}: no prompt");
                if (node is not JsonObject fields || !fields.ContainsKey("strong_correct") || !fields.ContainsKey("weak_correct"))
                {
                    throw new InvalidDataException($"{path}:{number}: no strong_correct/weak_correct");
                }

                if ((bool?)node["strong_correct"] is not { } strong || (bool?)node["weak_correct"] is not { } weak)
                {
                    continue;
                }

                rows.Add(new PreferenceRow(
                    (string?)node["source"] ?? Path.GetFileNameWithoutExtension(path),
                    (string?)node["subject"] ?? "",
                    strong,
                    weak,
                    UserRequest(prompt),
                    prompt.Length,
                    (double?)node["strong_cost"],
                    (double?)node["weak_cost"]));
            }
        }

        return rows;
    }

    /// <summary>
    /// Reads prompts to score for calibration: chat requests (<c>messages</c>), <c>prompt</c> lines (the preference files) or
    /// <c>text</c> lines (the labelled category files), with optional correctness.
    /// </summary>
    public static List<(string Request, bool? Strong, bool? Weak)> ReadPrompts(string path)
    {
        var rows = new List<(string, bool?, bool?)>();
        foreach (var (line, number) in Lines(path))
        {
            var node = JsonNode.Parse(line) ?? throw new InvalidDataException($"{path}:{number}: empty line");
            var request = node["messages"] is { } messages
                ? new JsonObject { ["messages"] = messages.DeepClone() }.ToJsonString()
                : UserRequest((string?)node["prompt"] ?? (string?)node["text"] ?? throw new InvalidDataException($"{path}:{number}: needs messages, prompt or text"));
            rows.Add((request, (bool?)node["strong_correct"], (bool?)node["weak_correct"]));
        }

        return rows;
    }

    public static string UserRequest(string prompt) =>
        new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) }.ToJsonString();

    /// <summary>Non-blank lines with their 1-based line numbers, for error messages.</summary>
    internal static IEnumerable<(string Line, int Number)> Lines(string path)
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

/// <summary>Hashed n-gram features of a prompt, as the gateway computes them.</summary>
internal sealed record SparseFeatures(long[] Indices, float[] Values);
