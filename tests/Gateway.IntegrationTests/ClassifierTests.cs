using Gateway.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Classifier.Training;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary><c>POST /admin/classify</c> and the classifier inside the request path.</summary>
public sealed class ClassifierTests : GatewayWithUpstream
{
    private static readonly string[] Categories = ["chat", "coding", "math", "reasoning", "knowledge", "extraction", "writing"];

    private HttpClient Admin()
    {
        var admin = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        return admin;
    }

    private static async Task<JsonNode> Json(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task Classify_Messages_ReturnsTheContract()
    {
        using var admin = Admin();

        using var response = await admin.PostAsJsonAsync("/admin/classify", new
        {
            messages = new object[]
            {
                new { role = "system", content = "You are a coding assistant." },
                new { role = "user", content = "Fix this: ```python\nfor i in range(len(xs)+1): print(xs[i])\n```" },
            },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("coding", body["category"]!.GetValue<string>());
        var scores = body["scores"]!.AsObject();
        Assert.Equal(Categories.Order(), scores.Select(s => s.Key).Order());
        Assert.Equal(1.0, scores.Sum(s => s.Value!.GetValue<double>()), 3);
        Assert.InRange(body["needs_strong"]!.GetValue<double>(), 0, 1);
        Assert.Equal(scores["coding"]!.GetValue<double>(), body["confidence"]!.GetValue<double>(), 6);

        using var status = await admin.GetAsync("/admin/status");
        Assert.Equal((await Json(status))["classifier_version"]!.GetValue<string>(), body["model_version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Classify_Prompt_IsAccepted()
    {
        using var admin = Admin();

        using var response = await admin.PostAsJsonAsync("/admin/classify", new { prompt = "What is 12 times 13?" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("math", (await Json(response))["category"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{not json", "invalid_request_error", null)]
    [InlineData("""{"model":"auto"}""", "invalid_request_error", "messages")]
    [InlineData("""{"messages":"hello"}""", "invalid_request_error", "messages")]
    [InlineData("""{"messages":[{"content":"no role"}]}""", "invalid_request_error", "messages[0]")]
    [InlineData("""{"prompt":42}""", "invalid_request_error", "prompt")]
    [InlineData("""[1,2]""", "invalid_request_error", "messages")]
    public async Task Classify_BadBody_IsAnOpenAiError(string body, string type, string? param)
    {
        using var admin = Admin();

        using var response = await admin.PostAsync("/admin/classify", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json(response))["error"]!;
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Classify_WithoutTheAdminKey_Is401()
    {
        using var response = await Gateway.Client.PostAsJsonAsync("/admin/classify", new { prompt = "hi" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotNull((await Json(response))["error"]!["message"]);
    }

    [Fact]
    public async Task ChatCompletion_IsClassified_AndCountedByCategory()
    {
        using var response = await Gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "auto",
            messages = new[] { new { role = "user", content = "Write a haiku about the sea at night." } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var metrics = await Gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("gateway_classifications_total{category=\"writing\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gateway_classifier_needs_strong_count 1", metrics, StringComparison.Ordinal);
        Assert.Matches("gateway_classifier_model_info\\{version=\"clf-[0-9a-f]{12}\"\\} 1", metrics);
    }

    [Fact]
    public async Task OffTheRequestPath_RequestsAreServedUnclassified_AndClassifyStillAnswers()
    {
        await using var gateway = await GatewayHost.StartAsync(Upstream.BaseUrl,
            settings: new Dictionary<string, string?> { ["Classifier:OnRequestPath"] = "false" });

        using var response = await gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "auto",
            messages = new[] { new { role = "user", content = "Write a haiku about the sea at night." } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("gateway_classifications_total{", await gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);

        using var admin = gateway.AdminClient();
        using var classified = await admin.PostAsJsonAsync("/admin/classify", new { prompt = "Write a haiku about the sea at night." });
        Assert.Equal(HttpStatusCode.OK, classified.StatusCode);
    }

    [Fact]
    public async Task Embeddings_AreNotClassified()
    {
        using var response = await Gateway.Client.PostAsJsonAsync("/v1/embeddings", new { model = "embed-model", input = "hello" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.DoesNotContain("gateway_classifications_total{", await Gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }
}

/// <summary>A retrained model dropped over the served file is swapped in; a broken one is refused.</summary>
public sealed class ClassifierHotSwapTests : IAsyncLifetime
{
    private readonly string _folder = TestFolders.Create("gateway-classifier-").FullName;
    private FakeOpenAiUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    private string ModelPath => Path.Combine(_folder, "classifier.onnx");

    public async Task InitializeAsync()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx"), ModelPath);
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, settings: new Dictionary<string, string?> { ["Classifier:ModelPath"] = ModelPath });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<string> ServedVersion()
    {
        using var admin = new HttpClient { BaseAddress = new Uri(_gateway.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        using var response = await admin.PostAsJsonAsync("/admin/classify", new { prompt = "hello" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["model_version"]!.GetValue<string>();
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            if (await condition())
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>As an operator would: write next to it, then rename over it.</summary>
    private void Replace(byte[] content)
    {
        var temp = ModelPath + ".new";
        File.WriteAllBytes(temp, content);
        File.Move(temp, ModelPath, overwrite: true);
    }

    [Fact]
    public async Task RetrainedModel_IsServedWithoutRestart_AndABrokenOneIsRefused()
    {
        var original = await ServedVersion();
        var retrained = Path.Combine(_folder, "retrained");
        var options = new TrainingOptions { Hidden = 8, CategoryEpochs = 1, NeedsStrongEpochs = 1, NeedsStrongL2Grid = [1e-2f], Seed = 99, TableDimensions = 32 };
        Assert.Equal(0, TrainingRun.Train(Path.Combine(AppContext.BaseDirectory, "data", "real-prompts-sample.jsonl"), null, [], retrained, options, TextWriter.Null,
            Evaluation.None, Path.Combine(Path.GetTempPath(), "gateway-classifier-cache")));

        Replace(File.ReadAllBytes(Path.Combine(retrained, "classifier.onnx")));

        Assert.True(await Eventually(async () => await ServedVersion() != original), "the retrained model was not swapped in");
        var swapped = await ServedVersion();

        Replace(Encoding.UTF8.GetBytes("not a model"));

        Assert.True(await Eventually(async () =>
            (await _gateway.Client.GetStringAsync("/metrics")).Contains("gateway_classifier_reloads_total{result=\"failed\"} 1", StringComparison.Ordinal)));
        Assert.Equal(swapped, await ServedVersion());
        Assert.Contains("gateway_classifier_reloads_total{result=\"ok\"} 1", await _gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }
}
