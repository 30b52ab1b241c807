using Gateway.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Local;

/// <summary>LoRA adapters on the local base model (and a hosted adapter), over HTTP.</summary>
public sealed class AdapterTests : IAsyncLifetime
{
    private static readonly string Folder = TestFolders.Create("adapters-").FullName;
    private static readonly string Base = TinyGguf.Write(Path.Combine(Folder, "base.gguf"));
    private static readonly string LoraA = TinyGguf.WriteLora(Path.Combine(Folder, "a.gguf"), seed: 2);
    private static readonly string LoraB = TinyGguf.WriteLora(Path.Combine(Folder, "b.gguf"), seed: 3);

    private FakeOpenAiUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    private static string Policy(bool withA = true) => $$"""
        default_route: base
        routes:
          base:
            kind: local
            local_model: tiny
            model: tiny-base
            price: { input_per_mtok: 0.02, output_per_mtok: 0.02 }
        {{(withA ? $$"""
          adapter-a:
            kind: adapter
            base_model: tiny
            adapter: a
            adapter_file: {{LoraA}}
            model: tiny+a
            price: { input_per_mtok: 0.02, output_per_mtok: 0.02 }
          adapter-zero:
            kind: adapter
            base_model: tiny
            adapter: a
            adapter_file: {{LoraA}}
            adapter_scale: 0
            model: tiny+a0
            price: { input_per_mtok: 0.02, output_per_mtok: 0.02 }
        """ : "")}}
          adapter-b:
            kind: adapter
            base_model: tiny
            adapter: b
            adapter_file: {{LoraB}}
            model: tiny+b
            price: { input_per_mtok: 0.02, output_per_mtok: 0.02 }
          hosted-adapter:
            kind: adapter
            upstream: fake
            adapter: support
            model: support-lora
            price: { input_per_mtok: 0.1, output_per_mtok: 0.1 }
        """;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, Policy(), new Dictionary<string, string?>
        {
            ["LocalModels:tiny:Path"] = Base,
            ["LocalModels:tiny:ContextSize"] = "512",
            ["LocalModels:tiny:MaxConcurrent"] = "3",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>Greedy decoding: the same model and prompt always give the same text.</summary>
    private async Task<string> Greedy(string route, int maxTokens = 24)
    {
        using var response = await _gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = route,
            temperature = 0,
            max_tokens = maxTokens,
            messages = new[] { new { role = "user", content = "hello world" } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
    }

    [Fact]
    public async Task Adapter_ChangesGreedyOutput_AndScaleZeroIsTheBase()
    {
        var baseText = await Greedy("base");

        Assert.Equal(baseText, await Greedy("base"));
        Assert.NotEqual(baseText, await Greedy("adapter-a"));
        Assert.NotEqual(await Greedy("adapter-a"), await Greedy("adapter-b"));
        Assert.Equal(baseText, await Greedy("adapter-zero"));
    }

    [Fact]
    public async Task ConcurrentRequests_AcrossAdaptersAndTheBase_EachGetTheirOwnOutput()
    {
        string[] routes = ["base", "adapter-a", "adapter-b"];
        var alone = new Dictionary<string, string>();
        foreach (var route in routes)
        {
            alone[route] = await Greedy(route);
        }

        var mixed = Enumerable.Range(0, 12).Select(i => routes[i % 3]).ToArray();
        var results = await Task.WhenAll(mixed.Select(r => Greedy(r)));

        for (var i = 0; i < mixed.Length; i++)
        {
            Assert.Equal(alone[mixed[i]], results[i]);
        }
    }

    [Fact]
    public async Task HostedAdapter_IsForwardedWithItsModelName()
    {
        using var response = await _gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "hosted-adapter",
            messages = new[] { new { role = "user", content = "hi" } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("support-lora", _upstream.LastRequest.Json["model"]!.GetValue<string>());
        Assert.Equal("hosted-adapter", response.Headers.GetValues("x-gateway-route").Single());
    }

    [Fact]
    public async Task Responses_OnAnAdapter_RunTheSameGenerationAsChat_AndAHostedAdapterIsForwarded()
    {
        using var local = await _gateway.Client.PostAsJsonAsync("/v1/responses", new { model = "adapter-a", temperature = 0, max_output_tokens = 24, input = "hello world" });
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        var body = JsonNode.Parse(await local.Content.ReadAsStringAsync())!;
        Assert.Equal("response", body["object"]!.GetValue<string>());
        var text = body["output"]![0]!["content"]![0]!["text"]!.GetValue<string>();
        Assert.Equal(await Greedy("adapter-a"), text);

        using var hosted = await _gateway.Client.PostAsJsonAsync("/v1/responses", new { model = "hosted-adapter", input = "hi" });
        Assert.Equal(HttpStatusCode.OK, hosted.StatusCode);
        Assert.Equal("/v1/responses", _upstream.LastRequest.Path);
        Assert.Equal("support-lora", _upstream.LastRequest.Json["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task RemovingAnAdapterMidTraffic_LosesNoRequest()
    {
        using var admin = _gateway.AdminClient();
        // Streams: once a response's headers arrive, the request is routed and generating on the adapter.
        // Three slots, so three run and the others wait for a slot, all decided before the change.
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "adapter-a", stream = true, temperature = 0, max_tokens = 300, messages = new[] { new { role = "user", content = "hello world" } } }),
            };
            responses.Add(await _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead));
        }

        using var removed = await admin.PutAsync("/admin/policy", new StringContent(Policy(withA: false), Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            response.Dispose();
        }

        using var gone = await _gateway.Client.PostAsJsonAsync("/v1/chat/completions", new { model = "adapter-a", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.NotEmpty(await Greedy("adapter-b")); // other adapters keep serving (and the removed one is unloaded)
    }

    public static TheoryData<string, string> BadAdapterFiles => new()
    {
        { "wrong-architecture", "is a LoRA for 'gpt2' models, but base model 'tiny' is 'llama'" },
        { "a-model-not-an-adapter", "is not a LoRA adapter" },
        { "corrupt", "is not a readable GGUF file" },
    };

    [Fact]
    public async Task MissingAdapterFile_MakesOnlyThatRouteUnavailable_AtStartAndOnApply()
    {
        var missing = Path.Combine(Folder, "not-there.gguf");
        var policy = Policy().Replace(LoraB, missing, StringComparison.Ordinal);
        using var admin = _gateway.AdminClient();

        var validation = JsonNode.Parse(await (await admin.PostAsync("/admin/policy/validate", new StringContent(policy, Encoding.UTF8, "application/yaml"))).Content.ReadAsStringAsync())!;
        Assert.True(validation["valid"]!.GetValue<bool>(), validation.ToJsonString());
        Assert.Contains(validation["warnings"]!.AsArray(), w => w!.GetValue<string>().StartsWith("routes.adapter-b: unavailable", StringComparison.Ordinal));

        // A gateway started on that policy (the README's local-model example with the adapter not yet deployed) serves.
        await using var gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, policy, new Dictionary<string, string?>
        {
            ["LocalModels:tiny:Path"] = Base,
            ["LocalModels:tiny:ContextSize"] = "512",
        });
        using var startedAdmin = gateway.AdminClient();
        var routes = JsonNode.Parse(await startedAdmin.GetStringAsync("/admin/status"))!["routes"]!.AsArray();
        var b = routes.Single(r => r!["name"]!.GetValue<string>() == "adapter-b")!;
        Assert.False(b["available"]!.GetValue<bool>());
        Assert.Contains(missing, b["unavailable_reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(routes.Single(r => r!["name"]!.GetValue<string>() == "adapter-a")!["available"]!.GetValue<bool>());

        using var pinned = await gateway.Client.PostAsJsonAsync("/v1/chat/completions", new { model = "adapter-b", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, pinned.StatusCode);
        using var other = await gateway.Client.PostAsJsonAsync("/v1/chat/completions", new { model = "adapter-a", max_tokens = 4, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadAdapterFiles))]
    public async Task BadAdapterFile_IsRejectedByValidation(string kind, string expected)
    {
        var file = Path.Combine(Folder, $"{kind}.gguf");
        switch (kind)
        {
            case "wrong-architecture":
                TinyGguf.WriteLora(file, seed: 5, architecture: "gpt2");
                break;
            case "a-model-not-an-adapter":
                TinyGguf.Write(file);
                break;
            case "corrupt":
                await File.WriteAllBytesAsync(file, "GGUF\u0003\0\0\0garbage"u8.ToArray());
                break;
        }

        using var admin = _gateway.AdminClient();
        var policy = Policy().Replace(LoraB, file, StringComparison.Ordinal);

        var result = JsonNode.Parse(await (await admin.PostAsync("/admin/policy/validate", new StringContent(policy, Encoding.UTF8, "application/yaml"))).Content.ReadAsStringAsync())!;

        Assert.False(result["valid"]!.GetValue<bool>());
        var error = Assert.Single(result["errors"]!.AsArray());
        Assert.StartsWith("routes.adapter-b.adapter_file: ", error!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(expected, error.GetValue<string>(), StringComparison.Ordinal);
    }
}
