using Gateway.Classification;

namespace Gateway.Tests.Classification;

public sealed class PromptTokensTests
{
    private static readonly FastBertTokenizer.BertTokenizer Tokenizer = MiniLm.CreateWordPiece();
    private static readonly string[] Vocabulary = MiniLm.ReadVocabulary();
    private static readonly long Cls = Array.IndexOf(Vocabulary, "[CLS]");
    private static readonly long Sep = Array.IndexOf(Vocabulary, "[SEP]");

    private static long[] Encode(string text)
    {
        var ids = new long[PromptTokens.MaxTokens];
        return ids[..PromptTokens.Encode(Tokenizer, text, ids)];
    }

    [Fact]
    public void Encode_ShortText_IsClsTokensSep()
    {
        var ids = Encode("Hello world");

        Assert.Equal(Cls, ids[0]);
        Assert.Equal(Sep, ids[^1]);
        Assert.Equal(4, ids.Length);
    }

    [Fact]
    public void Encode_Empty_IsStillTwoTokens()
    {
        Assert.Equal([Cls, Sep], Encode(""));
    }

    [Fact]
    public void Encode_MegabyteText_IsBoundedAndKeepsTheTail()
    {
        var text = string.Concat(Enumerable.Repeat("lorem ipsum dolor sit amet ", 40_000)) + "please summarise";

        var ids = Encode(text);

        Assert.InRange(ids.Length, PromptTokens.MaxHeadTokens, PromptTokens.MaxTokens);
        var tail = Encode("please summarise");
        Assert.Equal(tail[1..^1], ids[^(tail.Length - 1)..^1]);
    }

    [Theory]
    [InlineData("日本の首都はどこですか？")]
    [InlineData("Какая столица России?")]
    [InlineData("🙂🙂🙂")]
    [InlineData("\u0000\u0001")]
    public void Encode_AnyScript_GivesIdsInsideTheVocabulary(string text)
    {
        var size = MiniLm.ReadVocabularySize();

        Assert.All(Encode(text), id => Assert.InRange(id, 0, size - 1));
    }

    // BERT's uncased WordPiece as HuggingFace defines it (what MiniLM was trained with), where Microsoft.ML.Tokenizers'
    // BertTokenizer, used before, dropped the symbols, split "_" as a suffix and read accented words as [UNK].
    [Theory]
    [InlineData("2x+5=10", "2 ##x + 5 = 10")]
    [InlineData("read_json", "read _ j ##son")]
    [InlineData("cost $5 <b> a|b", "cost $ 5 < b > a | b")]
    [InlineData("Crème brûlée", "cr ##eme br ##ule ##e")]
    [InlineData("Cafe\u0301 ÉTÉ", "cafe et ##e")]
    public void Encode_IsHuggingFacesUncasedWordPiece(string text, string tokens)
    {
        Assert.Equal(tokens, string.Join(' ', Encode(text)[1..^1].Select(id => Vocabulary[id])));
    }

    [Fact]
    public void Encode_FromManyThreadsAtOnce_GivesWhatOneThreadGives()
    {
        var texts = Enumerable.Range(0, 64).Select(i => $"prompt {i}: {string.Concat(Enumerable.Repeat($"word{i} crème + x_{i} ", 40 + i))}").ToArray();
        var expected = texts.Select(Encode).ToArray();

        var actual = new long[texts.Length][];
        Parallel.For(0, texts.Length * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i % texts.Length] = Encode(texts[i % texts.Length]));

        Assert.All(Enumerable.Range(0, texts.Length), i => Assert.Equal(expected[i], actual[i]));
    }
}
