using System.Text.Json;
using Gateway.Classification;
using Gateway.OpenAi;

namespace Gateway.Classifier.Training;

/// <summary>
/// Featurizes training prompts with the gateway's own code (<see cref="PromptText"/>,
/// <see cref="PromptFeaturizer"/>, <see cref="PromptTokens"/>), so training and serving cannot drift.
/// Not thread-safe (shared buffers); training featurizes once, up front.
/// </summary>
internal sealed class Featurizer
{
    private readonly PromptText _text = new();
    private readonly long[] _indices = new long[PromptFeaturizer.MaxFeatures];
    private readonly float[] _values = new float[PromptFeaturizer.MaxFeatures];
    private readonly long[] _tokens = new long[PromptTokens.MaxTokens];

    public FastBertTokenizer.BertTokenizer Tokenizer { get; } = MiniLm.CreateWordPiece();

    /// <summary>The token ids of a request's last user turn, as the gateway reads them.</summary>
    public long[] Tokens(string request)
    {
        Load(request);
        return _tokens[..PromptTokens.Encode(Tokenizer, _text.LastUser, _tokens)];
    }

    /// <summary>The last user turn as the gateway reads it (bounded).</summary>
    public string LastUser(string request)
    {
        Load(request);
        return _text.LastUser.ToString();
    }

    public PromptFeatures Features(string request, TokenTable? table, FeatureSet set, float[]? sentenceEmbedding = null)
    {
        Load(request);
        var sparse = new SparseFeatures([], []);
        if (set.HasFlag(FeatureSet.Ngrams))
        {
            var n = PromptFeaturizer.Featurize(_text, _indices, _values);
            sparse = new SparseFeatures(_indices[..n], _values[..n]);
        }

        var signals = new float[PromptFeaturizer.SignalCount];
        PromptFeaturizer.Signals(_text, signals);
        float[] dense = [];
        if (set.HasFlag(FeatureSet.TokenTable) && table is not null)
        {
            var count = PromptTokens.Encode(Tokenizer, _text.LastUser, _tokens);
            dense = Scaled(table.Embed(_tokens.AsSpan(0, count)));
        }
        else if (set.HasFlag(FeatureSet.SentenceEmbedding) && sentenceEmbedding is not null)
        {
            dense = Scaled(sentenceEmbedding);
        }

        return new PromptFeatures(sparse, dense, signals);
    }

    /// <summary>A unit vector times √d: components of about unit variance, the scale the heads train at (the graph does the same).</summary>
    public static float[] Scaled(float[] unit)
    {
        var scale = MathF.Sqrt(unit.Length);
        return unit.Select(v => v * scale).ToArray();
    }

    private void Load(string request)
    {
        using var document = JsonDocument.Parse(request);
        _text.Load(Conversation.Read(document.RootElement));
    }
}
