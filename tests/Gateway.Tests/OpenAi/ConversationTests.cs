using System.Text.Json;
using Gateway.OpenAi;
using Gateway.Spend;

namespace Gateway.Tests.OpenAi;

/// <summary>The one reading of a request's conversation that classification, retrieval, local generation and estimates share.</summary>
public sealed class ConversationTests
{
    private static Conversation Read(OpenAiOperation operation, string json) =>
        Conversation.Read(operation, JsonDocument.Parse(json).RootElement);

    private static string[] Roles(Conversation c) => [.. c.Turns.Select(t => t.Role)];

    private static string[] Texts(Conversation c) => [.. c.Turns.Select(t => t.Text())];

    [Fact]
    public void Chat_NormalisesRoles_JoinsTextParts_AndCountsOtherParts()
    {
        var c = Read(OpenAiOperation.ChatCompletions, """
            {"messages":[
              {"role":"developer","content":"be brief"},
              {"role":"user","content":[{"type":"text","text":"what is"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"this?"}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"42"},
              {"role":"user","content":"thanks"}]}
            """);

        Assert.Equal(["system", "user", "assistant", "tool", "user"], Roles(c));
        Assert.Equal(["be brief", "what is\nthis?", "", "42", "thanks"], Texts(c));
        Assert.True(c.HasSystem);
        Assert.Equal(4, c.LastUserIndex);
        Assert.Equal("thanks", c.LastUserText());
        Assert.Equal(1, c.NonTextParts);
        Assert.False(c.IsPrompt);
    }

    [Fact]
    public void Responses_InstructionsAndStringInput_AreASystemAndAUserTurn()
    {
        var c = Read(OpenAiOperation.Responses, """{"model":"auto","instructions":"talk like a pirate","input":"hello"}""");

        Assert.Equal(["system", "user"], Roles(c));
        Assert.Equal(["talk like a pirate", "hello"], Texts(c));
        Assert.Equal("hello", c.LastUserText());
    }

    [Fact]
    public void Responses_ItemList_ReadsMessagesWithOrWithoutType_FunctionCallsAndTheirOutput()
    {
        var c = Read(OpenAiOperation.Responses, """
            {"input":[
              {"role":"user","content":"weather in Paris?"},
              {"type":"function_call","call_id":"c1","name":"weather","arguments":"{\"city\":\"Paris\"}"},
              {"type":"function_call_output","call_id":"c1","output":"18C"},
              {"type":"reasoning","summary":[]},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"and tomorrow?"},{"type":"input_image","image_url":"data:y"}]}]}
            """);

        Assert.Equal(["user", "assistant", "tool", "user"], Roles(c));
        Assert.Equal(["weather in Paris?", "{\"city\":\"Paris\"}", "18C", "and tomorrow?"], Texts(c));
        Assert.Equal("and tomorrow?", c.LastUserText());
        Assert.Equal(1, c.NonTextParts);
    }

    [Fact]
    public void CompletionPrompt_StringOrBatch_IsAPrompt_TokenArraysCarryNoText()
    {
        Assert.Equal(["one"], Texts(Read(OpenAiOperation.Completions, """{"prompt":"one"}""")));
        var batch = Read(OpenAiOperation.Completions, """{"prompt":["a","b",[1,2,3]]}""");
        Assert.Equal(["a", "b"], Texts(batch));
        Assert.True(batch.IsPrompt);
        Assert.Equal("a", batch.LastUserText()); // a batch is routed as its first prompt
        Assert.Empty(Read(OpenAiOperation.Completions, """{"prompt":[[1,2,3]]}""").Turns);
    }

    [Theory]
    [InlineData("""{"messages":"nope"}""")]
    [InlineData("""{"messages":[1,"x",null]}""")]
    [InlineData("""{"input":{"role":"user"}}""")]
    [InlineData("""[]""")]
    public void OddShapes_ReadAsNoUserTurn_NotAFailure(string json)
    {
        var c = Conversation.Read(JsonDocument.Parse(json).RootElement);
        Assert.Equal(-1, c.LastUserIndex);
        Assert.Equal("", c.LastUserText());
    }

    [Fact]
    public void Estimator_CountsTheSameTextForChatAndResponsesShapes()
    {
        var estimator = new UsageEstimator();
        var chat = estimator.Estimate(Read(OpenAiOperation.ChatCompletions,
            """{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"name three primes"}]}]}"""), "2, 3, 5");
        var responses = estimator.Estimate(Read(OpenAiOperation.Responses,
            """{"instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"name three primes"}]}]}"""), "2, 3, 5");

        Assert.Equal(chat, responses);
        // 2 + 3 tokens of text, 3 per message and 3 for the reply's priming.
        Assert.Equal(estimator.Count("be brief") + estimator.Count("name three primes") + 2 * 3 + 3, chat.PromptTokens);
        Assert.Equal(estimator.Count("2, 3, 5"), chat.CompletionTokens);
        Assert.True(chat.Estimated);
    }
}
