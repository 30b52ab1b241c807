using Gateway.Testing;
using Gateway.IntegrationTests.Infrastructure;
using LLama;
using LLama.Common;

namespace Gateway.IntegrationTests.Local;

/// <summary>The generated model is a real GGUF that llama.cpp (through LLamaSharp) loads and runs.</summary>
public sealed class TinyGgufTests
{
    [Fact]
    public async Task TinyModel_LoadsAndGenerates()
    {
        var path = TinyGguf.Write(Path.Combine(TestFolders.Create("tiny-gguf-").FullName, "tiny.gguf"));
        var parameters = new ModelParams(path) { ContextSize = 256 };

        using var weights = LLamaWeights.LoadFromFile(parameters);
        var executor = new StatelessExecutor(weights, parameters);
        var pieces = new List<string>();
        await foreach (var piece in executor.InferAsync("hello world", new InferenceParams { MaxTokens = 8 }))
        {
            pieces.Add(piece);
        }

        Assert.InRange(new FileInfo(path).Length, 100_000, 1_000_000);
        Assert.Equal(8, pieces.Count);
        Assert.True(weights.Vocab.Count > 256);
    }
}
