using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.OpenAi;

namespace Gateway.Tests.OpenAi;

public sealed class OpenAiRequestTests
{
    private static OpenAiRequest Parse(string json, OpenAiOperation operation = OpenAiOperation.ChatCompletions) =>
        OpenAiRequest.Parse(operation, Encoding.UTF8.GetBytes(json));

    private static JsonNode Rewrite(OpenAiRequest request, string model)
    {
        var output = new ArrayBufferWriter<byte>();
        request.WriteUpstreamBody(output, model);
        return JsonNode.Parse(output.WrittenSpan)!;
    }

    [Fact]
    public void Parse_ReadsRoutingFacts()
    {
        using var request = Parse("""
            {"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_tokens":50,
             "tools":[{"type":"function"}],"messages":[{"role":"user","content":"hi"}]}
            """);

        Assert.Equal("gpt-4o", request.Model);
        Assert.True(request.Stream);
        Assert.True(request.ClientWantsStreamUsage);
        Assert.Equal(50, request.MaxTokens);
        Assert.True(request.HasTools);
    }

    [Fact]
    public void Parse_MissingModel_MeansAuto()
    {
        using var request = Parse("""{"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(OpenAiRequest.AutoModel, request.Model);
        Assert.False(request.Stream);
    }

    [Fact]
    public void Parse_PrefersMaxCompletionTokens()
    {
        using var request = Parse("""{"max_tokens":10,"max_completion_tokens":20,"messages":[{"role":"user"}]}""");
        Assert.Equal(20, request.MaxTokens);
    }

    [Theory]
    [InlineData("{", "invalid_json")]
    [InlineData("\"text\"", "invalid_json")]
    [InlineData("{}", "missing_required_parameter")]
    [InlineData("{\"messages\":null}", "missing_required_parameter")]
    [InlineData("{\"messages\":{}}", "invalid_parameter")]
    [InlineData("{\"messages\":[1]}", "invalid_parameter")]
    [InlineData("{\"model\":\"\",\"messages\":[{\"role\":\"user\"}]}", "invalid_parameter")]
    public void Parse_RejectsInvalidChatBodies(string json, string code)
    {
        var error = Assert.Throws<OpenAiException>(() => Parse(json));
        Assert.Equal(400, error.Status);
        Assert.Equal(code, error.Code);
    }

    [Theory]
    [InlineData("{\"max_tokens\":-5,", "max_tokens", "integer_below_min_value")]
    [InlineData("{\"max_tokens\":0,", "max_tokens", "integer_below_min_value")]
    [InlineData("{\"max_completion_tokens\":-1,", "max_completion_tokens", "integer_below_min_value")]
    [InlineData("{\"max_tokens\":1.5,", "max_tokens", "invalid_type")]
    [InlineData("{\"max_tokens\":\"100\",", "max_tokens", "invalid_type")]
    [InlineData("{\"max_tokens\":1e40,", "max_tokens", "invalid_type")]
    [InlineData("{\"max_tokens\":2147483648,", "max_tokens", "integer_above_max_value")]
    [InlineData("{\"n\":0,", "n", "integer_below_min_value")]
    [InlineData("{\"n\":129,", "n", "integer_above_max_value")]
    [InlineData("{\"n\":true,", "n", "invalid_type")]
    public void Parse_RejectsCountsABudgetCannotPrice(string prefix, string param, string code)
    {
        var error = Assert.Throws<OpenAiException>(() => Parse(prefix + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        Assert.Equal(400, error.Status);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
    }

    [Theory]
    [InlineData(OpenAiOperation.ChatCompletions, "{\"n\":4,\"messages\":[{\"role\":\"user\"}]}", 4)]
    [InlineData(OpenAiOperation.ChatCompletions, "{\"n\":null,\"max_tokens\":null,\"messages\":[{\"role\":\"user\"}]}", 1)]
    [InlineData(OpenAiOperation.Completions, "{\"n\":2,\"best_of\":5,\"prompt\":\"x\"}", 5)]
    [InlineData(OpenAiOperation.Embeddings, "{\"model\":\"e\",\"n\":9,\"input\":\"x\"}", 1)]
    public void Parse_CountsTheChoicesThatAreBilled(OpenAiOperation operation, string json, int choices)
    {
        using var request = Parse(json, operation);
        Assert.Equal(choices, request.Choices);
    }

    [Theory]
    [InlineData(OpenAiOperation.Completions, "{\"prompt\":\"x\"}")]
    [InlineData(OpenAiOperation.Completions, "{\"prompt\":[\"x\",\"y\"]}")]
    [InlineData(OpenAiOperation.Embeddings, "{\"model\":\"e\",\"input\":\"x\"}")]
    public void Parse_AcceptsOtherOperations(OpenAiOperation operation, string json)
    {
        using var request = Parse(json, operation);
        Assert.Equal(operation, request.Operation);
    }

    [Fact]
    public void Parse_EmbeddingsWithoutInput_IsMissingParameter()
    {
        var error = Assert.Throws<OpenAiException>(() => Parse("{\"model\":\"e\"}", OpenAiOperation.Embeddings));
        Assert.Equal("input", error.Param);
    }

    [Fact]
    public void WriteUpstreamBody_ReplacesModelAndKeepsEverythingElseInOrder()
    {
        const string json = """{"z_first":1,"model":"auto","messages":[{"role":"user","content":"ü ✓ \"q\""}],"n":3,"custom":{"a":[null,true]}}""";
        using var request = Parse(json);

        var rewritten = Rewrite(request, "big-model");

        var expected = JsonNode.Parse(json)!;
        expected["model"] = "big-model";
        Assert.True(JsonNode.DeepEquals(expected, rewritten));
        Assert.Equal(["z_first", "model", "messages", "n", "custom"], rewritten.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void WriteUpstreamBody_ForwardsTheClientsValuesByteForByte()
    {
        // Escaped and raw non-ASCII text, an escaped newline, spacing inside an array: the provider gets them as sent.
        const string messages = """[{"role":"user","content":"caf\u00e9 ✓ line\nnext \"q\" \ud83d\ude42"}, {"role":"assistant","content":[ 1,  2 ]}]""";
        using var request = Parse($$"""{"model":"auto","messages":{{messages}},"temperature":0.50}""");

        var output = new ArrayBufferWriter<byte>();
        request.WriteUpstreamBody(output, "big-model");

        Assert.Equal($$"""{"model":"big-model","messages":{{messages}},"temperature":0.50}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteUpstreamBody_AddsModelWhenTheClientSentNone()
    {
        using var request = Parse("""{"messages":[{"role":"user"}]}""");
        Assert.Equal("m", Rewrite(request, "m")["model"]!.GetValue<string>());
    }

    [Fact]
    public void WriteUpstreamBody_Stream_ForcesIncludeUsageAndKeepsOtherStreamOptions()
    {
        using var request = Parse("""{"stream":true,"stream_options":{"include_usage":false,"include_obfuscation":false},"messages":[{"role":"user"}]}""");

        var options = Rewrite(request, "m")["stream_options"]!;

        Assert.True(options["include_usage"]!.GetValue<bool>());
        Assert.False(options["include_obfuscation"]!.GetValue<bool>());
        Assert.False(request.ClientWantsStreamUsage);
    }

    [Fact]
    public void WriteUpstreamBody_Stream_AddsStreamOptionsWhenAbsentOrNull()
    {
        using var absent = Parse("""{"stream":true,"messages":[{"role":"user"}]}""");
        using var nulled = Parse("""{"stream":true,"stream_options":null,"messages":[{"role":"user"}]}""");

        Assert.True(Rewrite(absent, "m")["stream_options"]!["include_usage"]!.GetValue<bool>());
        var fromNull = Rewrite(nulled, "m");
        Assert.True(fromNull["stream_options"]!["include_usage"]!.GetValue<bool>());
        Assert.Single(fromNull.AsObject(), p => p.Key == "stream_options");
    }

    [Fact]
    public void WriteUpstreamBody_NotStreaming_LeavesStreamOptionsAlone()
    {
        using var request = Parse("""{"messages":[{"role":"user"}]}""");
        Assert.Null(Rewrite(request, "m")["stream_options"]);
    }
}
