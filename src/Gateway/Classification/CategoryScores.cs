using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Gateway.Classification;

/// <summary>Per-category probabilities as a read-only map over the model's label list and one score array.</summary>
internal sealed class CategoryScores(IReadOnlyList<string> labels, float[] scores) : IReadOnlyDictionary<string, float>
{
    public float this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public IEnumerable<string> Keys => labels;

    public IEnumerable<float> Values => scores;

    public int Count => scores.Length;

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out float value)
    {
        var i = IndexOf(key);
        value = i >= 0 ? scores[i] : 0;
        return i >= 0;
    }

    public IEnumerator<KeyValuePair<string, float>> GetEnumerator()
    {
        for (var i = 0; i < scores.Length; i++)
        {
            yield return new KeyValuePair<string, float>(labels[i], scores[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            if (string.Equals(labels[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

[JsonSerializable(typeof(string[]))]
internal sealed partial class ClassifierJsonContext : JsonSerializerContext;
