using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Classification;
using Gateway.OpenAi;

namespace Gateway.Benchmarks;

/// <summary>
/// The classifier on the request path: featurize + ONNX run for a 2 KB prompt, against the JSON
/// parse the gateway does for every request anyway (the baseline, so ratios survive a noisy machine).
/// </summary>
[MemoryDiagnoser]
public class ClassifierBenchmarks
{
    private ClassifierModel _model = null!;
    private JsonDocument _long = null!;
    private JsonDocument _short = null!;
    private byte[] _longBody = null!;
    private PromptText _text = null!;
    private long[] _indices = null!;
    private float[] _values = null!;
    private long[] _tokens = null!;
    private FastBertTokenizer.BertTokenizer _tokenizer = null!;
    private Microsoft.ML.Tokenizers.BertTokenizer _mlTokenizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = ClassifierModel.Load(Prompts.BundledModel);
        _longBody = Prompts.Request(Prompts.TwoKilobytes);
        _long = JsonDocument.Parse(_longBody);
        _short = JsonDocument.Parse(Prompts.Request("hi, how are you?"));
        _text = new PromptText();
        _indices = new long[PromptFeaturizer.MaxFeatures];
        _values = new float[PromptFeaturizer.MaxFeatures];
        _tokens = new long[PromptTokens.MaxTokens];
        _tokenizer = MiniLm.CreateWordPiece();
        _mlTokenizer = MiniLm.CreateTokenizer();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _long.Dispose();
        _short.Dispose();
    }

    [Benchmark(Baseline = true, Description = "parse 2 KB request (JsonDocument)")]
    public int ParseRequest()
    {
        using var document = JsonDocument.Parse(_longBody);
        return document.RootElement.GetProperty("messages"u8).GetArrayLength();
    }

    [Benchmark(Description = "featurize 2 KB prompt")]
    public int Featurize()
    {
        _text.Load(Conversation.Read(_long.RootElement));
        return PromptFeaturizer.Featurize(_text, _indices, _values);
    }

    [Benchmark(Description = "tokenize 2 KB prompt (WordPiece, bounded)")]
    public int Tokenize()
    {
        _text.Load(Conversation.Read(_long.RootElement));
        return PromptTokens.Encode(_tokenizer, _text.LastUser, _tokens);
    }

    /// <summary>The same with Microsoft.ML.Tokenizers' BertTokenizer, as the classifier read prompts before issue 16.</summary>
    [Benchmark(Description = "tokenize 2 KB prompt (Microsoft.ML.Tokenizers, before)")]
    public int TokenizeBefore()
    {
        _text.Load(Conversation.Read(_long.RootElement));
        var text = _text.LastUser;
        var head = text.Length > PromptTokens.HeadChars + PromptTokens.TailChars ? text[..PromptTokens.HeadChars] : text;
        var n = _mlTokenizer.EncodeToIds(head, PromptTokens.MaxHeadTokens, addSpecialTokens: false, out _, out _).Count;
        if (head.Length < text.Length)
        {
            n += Math.Min(PromptTokens.MaxTailTokens, _mlTokenizer.EncodeToIds(text[^PromptTokens.TailChars..], addSpecialTokens: false).Count);
        }

        return n + 2;
    }

    [Benchmark(Description = "classify 2 KB prompt")]
    public PromptClassification ClassifyLong() => _model.Classify(_long.RootElement);

    [Benchmark(Description = "classify short prompt")]
    public PromptClassification ClassifyShort() => _model.Classify(_short.RootElement);
}
