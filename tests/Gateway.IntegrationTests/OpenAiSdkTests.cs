using System.ClientModel;
using System.Text;
using Gateway.IntegrationTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Gateway.IntegrationTests;

/// <summary>The official OpenAI .NET SDK, pointed at the gateway, works as it does against OpenAI.</summary>
public sealed class OpenAiSdkTests : GatewayWithUpstream
{
    private OpenAIClient Client(string key = GatewayHost.ClientKey) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl + "/v1") });

    [Fact]
    public async Task CompleteChat_ReturnsTheUpstreamAnswerAndUsage()
    {
        var chat = Client().GetChatClient("auto");

        ChatCompletion completion = await chat.CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Say hello.")],
            new ChatCompletionOptions { Temperature = 0.1f, MaxOutputTokenCount = 20 });

        Assert.Equal(FakeOpenAiUpstream.CompletionText, completion.Content.Single().Text);
        Assert.Equal(1200, completion.Usage.InputTokenCount);
        Assert.Equal(300, completion.Usage.OutputTokenCount);
        Assert.Equal("big-model", completion.Model);
        Assert.Equal("big-model", Upstream.LastRequest.Json["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task CompleteChatStreaming_DeliversEveryDeltaAndUsage()
    {
        var chat = Client().GetChatClient("frontier");
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Say hello.")]))
        {
            updates++;
            usage ??= update.Usage;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal(FakeOpenAiUpstream.CompletionText + " ", text.ToString());
        Assert.True(updates >= 3);
        // The SDK asks for stream usage itself, so the usage chunk is the client's and reaches it.
        Assert.NotNull(usage);
        Assert.Equal(40, usage.InputTokenCount);
        Assert.Equal(7, usage.OutputTokenCount);
    }

    [Fact]
    public async Task Embeddings_Work()
    {
        var embeddings = Client().GetEmbeddingClient("embed-model");
        OpenAIEmbedding embedding = await embeddings.GenerateEmbeddingAsync("hello");
        Assert.Equal([0.1f, 0.2f, 0.3f], embedding.ToFloats().ToArray());
    }

    [Fact]
    public async Task WrongKey_SurfacesAsA401ClientResultException()
    {
        var chat = Client("sk-wrong-key-000000000000").GetChatClient("auto");
        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(401, error.Status);
        Assert.Contains("Incorrect API key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownModel_SurfacesAsA404ClientResultException()
    {
        var chat = Client().GetChatClient("no-such-model");
        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(404, error.Status);
    }
}
