using System.Globalization;
using System.Text.Json;
using Gateway.OpenAi;
using Microsoft.ML.OnnxRuntime;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Gateway.Classification;

/// <summary>
/// One loaded classifier: an ONNX session over the graph the training CLI exports, plus the
/// labels and version read from the model's own metadata. Thread-safe (ORT sessions are);
/// per-call scratch lives in thread-static buffers, so a call allocates only its result.
/// </summary>
internal sealed class ClassifierModel : IDisposable
{
    public const string IndicesInput = "indices";
    public const string ValuesInput = "values";
    public const string TokensInput = "tokens";
    public const string SignalsInput = "signals";
    public const string ScoresOutput = "scores";
    public const string NeedsStrongOutput = "needs_strong";

    public const string LabelsKey = "labels";
    public const string VersionKey = "model_version";
    public const string FeaturizerKey = "featurizer";
    public const string BucketsKey = "buckets";
    public const string VocabularyKey = "token_vocabulary";
    public const string SignalsKey = "signals";

    private static readonly string[] InputNames = [IndicesInput, ValuesInput, TokensInput, SignalsInput];

    // Immutable once built and thread-safe for encoding; one per process (the vocabulary is 30k tokens).
    private static readonly Lazy<FastBertTokenizer.BertTokenizer> Tokenizer = new(MiniLm.CreateWordPiece);
    private static readonly string[] OutputNames = [ScoresOutput, NeedsStrongOutput];

    [ThreadStatic] private static Scratch? t_scratch;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    private ClassifierModel(InferenceSession session, string[] labels, string version, string path)
    {
        _session = session;
        Labels = labels;
        Version = version;
        Path = path;
    }

    public IReadOnlyList<string> Labels { get; }

    public string Version { get; }

    public string Path { get; }

    /// <summary>Loads and checks a model: its metadata must name this featurizer, and a probe must classify.</summary>
    /// <exception cref="ClassifierModelException">The file is missing, not ONNX, or not a model this gateway can serve.</exception>
    public static ClassifierModel Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ClassifierModelException($"classifier model not found at '{path}' (setting Classifier:ModelPath)");
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(path, CreateSessionOptions());
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ClassifierModelException($"'{path}' is not a loadable ONNX model: {ex.Message}", ex);
        }

        try
        {
            var metadata = session.ModelMetadata.CustomMetadataMap;
            string Meta(string key) => metadata.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value)
                ? value
                : throw new ClassifierModelException($"'{path}' has no '{key}' metadata; export it with Gateway.Classifier.Training");

            string Optional(string key) => metadata.TryGetValue(key, out var value) ? value : "none";
            if (Meta(FeaturizerKey) != PromptFeaturizer.Name
                || Meta(BucketsKey) != PromptFeaturizer.Buckets.ToString(CultureInfo.InvariantCulture)
                || Optional(VocabularyKey) != MiniLm.VocabularyName
                || Optional(SignalsKey) != PromptFeaturizer.SignalCount.ToString(CultureInfo.InvariantCulture))
            {
                throw new ClassifierModelException(
                    $"'{path}' was trained with featurizer {Meta(FeaturizerKey)}/{Meta(BucketsKey)}, tokens {Optional(VocabularyKey)}, {Optional(SignalsKey)} signals; " +
                    $"this gateway computes {PromptFeaturizer.Name}/{PromptFeaturizer.Buckets}, tokens {MiniLm.VocabularyName}, {PromptFeaturizer.SignalCount} signals (retrain with Gateway.Classifier.Training)");
            }

            var labels = JsonSerializer.Deserialize(Meta(LabelsKey), ClassifierJsonContext.Default.StringArray);
            if (labels is not { Length: > 1 })
            {
                throw new ClassifierModelException($"'{path}' lists fewer than two labels");
            }

            var model = new ClassifierModel(session, labels, Meta(VersionKey), path);
            using var probe = JsonDocument.Parse("""{"messages":[{"role":"user","content":"hello"}]}""");
            var result = model.Classify(probe.RootElement);
            if (result.Scores.Count != labels.Length)
            {
                throw new ClassifierModelException($"'{path}' returns {result.Scores.Count} scores for {labels.Length} labels");
            }

            return model;
        }
        catch (Exception ex) when (ex is not ClassifierModelException)
        {
            session.Dispose();
            throw new ClassifierModelException($"'{path}' does not run as a prompt classifier: {ex.Message}", ex);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static SessionOptions CreateSessionOptions()
    {
        // One thread, no spinning: the classifier shares two cores with the proxy (ARCHITECTURE §7).
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        return options;
    }

    /// <summary>Classifies a request body of any shape (<see cref="Conversation.Read(JsonElement)"/>).</summary>
    public PromptClassification Classify(JsonElement request) => Classify(Conversation.Read(request));

    public PromptClassification Classify(Conversation conversation)
    {
        var scratch = t_scratch ??= new Scratch();
        scratch.Text.Load(conversation);
        var count = PromptFeaturizer.Featurize(scratch.Text, scratch.Indices, scratch.Values);
        var tokenCount = PromptTokens.Encode(Tokenizer.Value, scratch.Text.LastUser, scratch.Tokens);
        PromptFeaturizer.Signals(scratch.Text, scratch.Signals);
        scratch.Text.Trim();

        var scores = new float[Labels.Count];
        float needsStrong;
        using (var indices = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, scratch.Indices.AsMemory(0, count), [count]))
        using (var values = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, scratch.Values.AsMemory(0, count), [1, count]))
        using (var tokens = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, scratch.Tokens.AsMemory(0, tokenCount), [tokenCount]))
        using (var signals = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, scratch.Signals.AsMemory(), [1, PromptFeaturizer.SignalCount]))
        using (var outputs = _session.Run(_runOptions, InputNames, [indices, values, tokens, signals], OutputNames))
        {
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(scores);
            needsStrong = outputs[1].GetTensorDataAsSpan<float>()[0];
        }

        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }

        return new PromptClassification(Labels[best], new CategoryScores(Labels, scores), needsStrong, scores[best], Version);
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private sealed class Scratch
    {
        public readonly PromptText Text = new();
        public readonly long[] Indices = new long[PromptFeaturizer.MaxFeatures];
        public readonly float[] Values = new float[PromptFeaturizer.MaxFeatures];
        public readonly long[] Tokens = new long[PromptTokens.MaxTokens];
        public readonly float[] Signals = new float[PromptFeaturizer.SignalCount];
    }
}

/// <summary>A classifier model that cannot be served; the message says which file and why.</summary>
public sealed class ClassifierModelException(string message, Exception? inner = null) : Exception(message, inner);
