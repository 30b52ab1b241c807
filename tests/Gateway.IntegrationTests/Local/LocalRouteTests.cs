#pragma warning disable OPENAI001 // the SDK marks its Responses client as evaluation-only; it is what clients call

using Gateway.Testing;
using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;

namespace Gateway.IntegrationTests.Local;

/// <summary>The local route end to end: a generated GGUF served in-process, behind the OpenAI contract.</summary>
public sealed class LocalRouteTests : IAsyncLifetime
{
    private static readonly Lazy<string> Model = new(() =>
        TinyGguf.Write(Path.Combine(TestFolders.Create("local-route-").FullName, "tiny.gguf")));

    private static string Policy(string defaultRoute = "local", string localFallbacks = "[]") => $$"""
        default_route: {{defaultRoute}}
        reference_route: frontier
        routes:
          local:
            kind: local
            local_model: tiny
            model: tiny-llama
            price: { input_per_mtok: 0.02, output_per_mtok: 0.02 }
            fallbacks: {{localFallbacks}}
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.50, output_per_mtok: 10.00 }
        """;

    private FakeOpenAiUpstream _upstream = null!;
    private readonly List<GatewayHost> _gateways = [];

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private async Task<GatewayHost> Start(string? policy = null, string modelPath = "", params (string Key, string Value)[] settings)
    {
        var config = new Dictionary<string, string?>
        {
            ["LocalModels:tiny:Path"] = modelPath.Length > 0 ? modelPath : Model.Value,
            ["LocalModels:tiny:ContextSize"] = "512",
        };
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }

        var gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, policy ?? Policy(), config);
        _gateways.Add(gateway);
        return gateway;
    }

    private static ChatClient Chat(GatewayHost gateway, string model = "auto") =>
        new OpenAIClient(new ApiKeyCredential(GatewayHost.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") })
            .GetChatClient(model);

    private static Task<HttpResponseMessage> Post(GatewayHost gateway, object body, string path = "/v1/chat/completions") =>
        gateway.Client.PostAsJsonAsync(path, body);

    [Fact]
    public async Task Sdk_CompleteChat_GetsAnOpenAiShapedAnswerWithUsage()
    {
        var gateway = await Start();

        ChatCompletion completion = await Chat(gateway).CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("hello world")],
            new ChatCompletionOptions { MaxOutputTokenCount = 12 });

        Assert.Equal("tiny-llama", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 12);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.Equal(completion.Usage.OutputTokenCount == 12 ? ChatFinishReason.Length : ChatFinishReason.Stop, completion.FinishReason);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Sdk_Streaming_DeliversChunksAndUsage()
    {
        var gateway = await Start();
        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Chat(gateway).CompleteChatStreamingAsync(
            [new UserChatMessage("hello world")], new ChatCompletionOptions { MaxOutputTokenCount = 10 }))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.NotNull(usage);
        Assert.InRange(usage!.OutputTokenCount, 1, 10);
        Assert.NotNull(finish);
    }

    [Fact]
    public async Task RawStream_HasTheOpenAiChunkSequence()
    {
        var gateway = await Start();

        using var response = await Post(gateway, new
        {
            model = "auto",
            stream = true,
            max_tokens = 6,
            seed = 11,
            messages = new[] { new { role = "user", content = "hello" } },
        });

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("local", response.Headers.GetValues("x-gateway-route").Single());
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.NotNull(chunks[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Single(chunks.Select(c => c["id"]!.GetValue<string>()).Distinct());
        Assert.DoesNotContain(chunks, c => c["usage"] is not null); // the client did not ask for usage
    }

    [Fact]
    public async Task MaxTokens_AreHonoured_AndCountedByTheModelsTokenizer()
    {
        var gateway = await Start();

        using var response = await Post(gateway, new { model = "auto", max_tokens = 5, seed = 5, messages = new[] { new { role = "user", content = "hello" } } });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        var completion = body["usage"]!["completion_tokens"]!.GetValue<int>();
        Assert.InRange(completion, 1, 5);
        Assert.Equal(completion == 5 ? "length" : "stop", body["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("chat.completion", body["object"]!.GetValue<string>());
        Assert.True(decimal.Parse(response.Headers.GetValues("x-gateway-cost-usd").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task StopSequence_EndsTheAnswerAndIsNotIncluded()
    {
        var gateway = await Start();

        using var response = await Post(gateway, new { model = "auto", max_tokens = 400, seed = 9, stop = new[] { "e" }, messages = new[] { new { role = "user", content = "hello" } } });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        var content = body["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.DoesNotContain("e", content, StringComparison.Ordinal);
        Assert.Equal("stop", body["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.True(body["usage"]!["completion_tokens"]!.GetValue<int>() < 400);
    }

    [Fact]
    public async Task ChatTemplate_FromTheGguf_IsUsed_ElseChatMl()
    {
        // A Llama 3 style template in the GGUF metadata (llama.cpp recognises it by its header tokens).
        const string llama3 = "{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{{ message['content'] }}<|eot_id|>{% endfor %}";
        var withTemplate = TinyGguf.Write(Path.Combine(TestFolders.Create("templated-").FullName, "tiny.gguf"), chatTemplate: llama3);
        var templated = await Start(null, withTemplate);
        var plain = await Start();
        object Body() => new { model = "auto", max_tokens = 1, messages = new[] { new { role = "user", content = "hello" } } };

        var templatedTokens = (await (await Post(templated, Body())).Content.ReadFromJsonAsync<JsonNode>())!["usage"]!["prompt_tokens"]!.GetValue<int>();
        var chatMlTokens = (await (await Post(plain, Body())).Content.ReadFromJsonAsync<JsonNode>())!["usage"]!["prompt_tokens"]!.GetValue<int>();

        Assert.NotEqual(chatMlTokens, templatedTokens);
        Assert.True(chatMlTokens > 20); // "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n" in byte tokens
    }

    [Fact]
    public async Task Completions_UseTheTextCompletionShape()
    {
        var gateway = await Start();

        using var response = await Post(gateway, new { model = "auto", max_tokens = 4, prompt = "hello" }, "/v1/completions");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text_completion", body["object"]!.GetValue<string>());
        Assert.NotNull(body["choices"]![0]!["text"]);
    }

    [Fact]
    public async Task Saturated_Is503WithRetryAfter_OrFallsBack()
    {
        var gateway = await Start(null, "", ("LocalModels:tiny:MaxConcurrent", "1"), ("LocalModels:tiny:QueueTimeout", "00:00:00.050"),
            ("LocalModels:tiny:ContextSize", "4096"));
        using (await HoldTheOnlySlot(gateway))
        {
            using var refused = await Post(gateway, new { model = "auto", max_tokens = 4, messages = new[] { new { role = "user", content = "hi" } } });

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
            Assert.Equal("model_overloaded", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        }

        var withFallback = await Start(Policy(localFallbacks: "[frontier]"), "", ("LocalModels:tiny:MaxConcurrent", "1"),
            ("LocalModels:tiny:QueueTimeout", "00:00:00.050"), ("LocalModels:tiny:ContextSize", "4096"));
        using (await HoldTheOnlySlot(withFallback))
        {
            using var rerouted = await Post(withFallback, new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, rerouted.StatusCode);
            Assert.Equal("frontier", rerouted.Headers.GetValues("x-gateway-route").Single());
        }
    }

    /// <summary>
    /// A long streamed generation that has produced its first bytes, so it certainly holds the model's only slot (a fixed
    /// pause was not enough on a loaded CI machine); disposing it disconnects, which frees the slot.
    /// </summary>
    private static async Task<HttpResponseMessage> HoldTheOnlySlot(GatewayHost gateway)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "auto", stream = true, max_tokens = 4000, seed = 1, messages = new[] { new { role = "user", content = "hello" } } }),
        };
        var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        await stream.ReadAtLeastAsync(new byte[64], 1); // generation has started
        return response;
    }

    [Fact]
    public async Task ClientDisconnect_StopsGeneration_AndFreesTheSlot()
    {
        var gateway = await Start(null, "", ("LocalModels:tiny:MaxConcurrent", "1"), ("LocalModels:tiny:ContextSize", "4096"));
        using (var cancel = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "auto", stream = true, max_tokens = 4000, seed = 2, messages = new[] { new { role = "user", content = "hello" } } }),
            };
            using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
            await stream.ReadAtLeastAsync(new byte[64], 1, cancellationToken: cancel.Token); // generation has started
            await cancel.CancelAsync();
        }

        var started = DateTime.UtcNow;
        using var next = await Post(gateway, new { model = "auto", max_tokens = 3, messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.OK, next.StatusCode); // the only slot was released
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4), "the slot stayed taken: generation did not stop");
        using var admin = gateway.AdminClient();
        var report = JsonNode.Parse(await admin.GetStringAsync("/admin/spend?group_by=status"))!;
        await Task.Delay(400);
        report = JsonNode.Parse(await admin.GetStringAsync("/admin/spend?group_by=status"))!;
        var cancelled = report["rows"]!.AsArray().Single(r => r!["group"]!["status"]!.GetValue<string>() == "499")!;
        Assert.True(cancelled["completion_tokens"]!.GetValue<long>() < 4000);
    }

    [Fact]
    public async Task Responses_Sdk_GetsAResponseObjectFromTheLocalModel()
    {
        var gateway = await Start();
        var client = new OpenAIClient(new ApiKeyCredential(GatewayHost.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl + "/v1") })
            .GetResponsesClient();

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "auto",
            Instructions = "You are terse.",
            MaxOutputTokenCount = 8,
            InputItems = { ResponseItem.CreateUserMessageItem("hello world") },
        });

        Assert.Equal("tiny-llama", response.Model);
        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.InRange(response.Usage.OutputTokenCount, 1, 8);
        Assert.True(response.Usage.InputTokenCount > 5);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.Equal(response.Usage.OutputTokenCount == 8 ? ResponseStatus.Incomplete : ResponseStatus.Completed, response.Status);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Responses_Stream_HasTheTypedEventSequence_AndTheDeltasMakeTheText()
    {
        var gateway = await Start();

        using var response = await Post(gateway, new { model = "local", stream = true, input = "hello world", max_output_tokens = 6 }, "/v1/responses");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonNode.Parse(e.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..])!)
            .ToList();
        var types = events.Select(e => e["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], types.Take(4));
        Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done"], types.SkipLast(1).TakeLast(3));
        Assert.Contains(types[^1], new[] { "response.completed", "response.incomplete" });
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e["sequence_number"]!.GetValue<int>()));
        var deltas = string.Concat(events.Where(e => e["type"]!.GetValue<string>() == "response.output_text.delta").Select(e => e["delta"]!.GetValue<string>()));
        Assert.Equal(deltas, events.Single(e => e["type"]!.GetValue<string>() == "response.output_text.done")["text"]!.GetValue<string>());
        var usage = events[^1]["response"]!["usage"]!;
        Assert.InRange(usage["output_tokens"]!.GetValue<int>(), 1, 6);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Responses_ToolsOrFollowUps_PinnedToLocal_AreA400()
    {
        var gateway = await Start();

        using var tools = await Post(gateway, new { model = "local", input = "weather?", tools = new[] { new { type = "function", name = "weather", parameters = new { type = "object" } } } }, "/v1/responses");
        using var followUp = await Post(gateway, new { model = "local", input = "and then?", previous_response_id = "resp_123" }, "/v1/responses");
        using var chatTools = await Post(gateway, new { model = "local", messages = new[] { new { role = "user", content = "hi" } }, tools = new[] { new { type = "function", function = new { name = "f" } } } });

        foreach (var response in new[] { tools, followUp, chatTools })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("model_cannot_serve_request", error["code"]!.GetValue<string>());
            Assert.Equal("model", error["param"]!.GetValue<string>());
        }

        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Responses_WithTools_OnAutoWhoseDefaultIsLocal_GoToAHostedRouteThatCan()
    {
        var gateway = await Start(Policy(localFallbacks: "[frontier]"));

        using var tools = await Post(gateway, new { model = "auto", input = "weather?", tools = new[] { new { type = "function", name = "weather", parameters = new { type = "object" } } } }, "/v1/responses");
        using var plain = await Post(gateway, new { model = "auto", input = "hello world", max_output_tokens = 4 }, "/v1/responses");

        Assert.Equal(HttpStatusCode.OK, tools.StatusCode);
        Assert.Equal("frontier", tools.Headers.GetValues("x-gateway-route").Single());
        Assert.Equal("/v1/responses", _upstream.LastRequest.Path);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("local", plain.Headers.GetValues("x-gateway-route").Single());
        Assert.Single(_upstream.Received);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("corrupt")]
    public async Task BrokenModelFile_GatewayStaysUp_AndTheRouteAnswers503(string kind)
    {
        var path = Path.Combine(TestFolders.Create("broken-gguf-").FullName, "model.gguf");
        if (kind == "corrupt")
        {
            await File.WriteAllBytesAsync(path, "GGUF this is not a model"u8.ToArray());
        }

        var gateway = await Start(Policy(defaultRoute: "frontier"), path);

        using var pinned = await Post(gateway, new { model = "local", messages = new[] { new { role = "user", content = "hi" } } });
        using var auto = await Post(gateway, new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, pinned.StatusCode);
        Assert.Contains(kind == "missing" ? "file not found" : "cannot load", JsonNode.Parse(await pinned.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, auto.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/healthz")).StatusCode);
        using var admin = gateway.AdminClient();
        var model = JsonNode.Parse(await admin.GetStringAsync("/admin/status"))!["local_models"]![0]!;
        Assert.False(model["loaded"]!.GetValue<bool>());
        Assert.Contains(path, model["failure"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
