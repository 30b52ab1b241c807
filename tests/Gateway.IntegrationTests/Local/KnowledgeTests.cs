using Gateway.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests.Local;

/// <summary>Knowledge collections over the admin API, and a local route answering from one.</summary>
public sealed class KnowledgeTests : IAsyncLifetime
{
    // Questions the handbook answers well stay local; everything else goes to the hosted model.
    private const string Policy = """
        default_route: frontier
        routes:
          local:
            kind: local
            local_model: tiny
            knowledge: handbook
            model: tiny-llama
            price: { input_per_mtok: 0.02, output_per_mtok: 0.02 }
          frontier:
            kind: hosted
            upstream: fake
            model: big-model
            price: { input_per_mtok: 2.5, output_per_mtok: 10 }
        rules:
          - name: handbook-answers-locally
            when: { retrieval_relevance: { min: 0.5 } }
            then: { route: local }
        """;

    private FakeOpenAiUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        var model = TinyGguf.Write(Path.Combine(TestFolders.Create("knowledge-").FullName, "tiny.gguf"));
        _gateway = await GatewayHost.StartAsync(_upstream.BaseUrl, Policy, new Dictionary<string, string?>
        {
            ["LocalModels:tiny:Path"] = model,
            ["LocalModels:tiny:ContextSize"] = "2048",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static async Task<JsonNode> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task Documents_CanBeIngestedListedReplacedAndDeleted()
    {
        using var admin = _gateway.AdminClient();

        using var json = await admin.PostAsJsonAsync("/admin/knowledge/handbook/documents",
            new { id = "leave", title = "Annual leave", source = "hr/leave.md", text = "Employees get 28 days of paid holiday a year." });
        using var markdown = await admin.PostAsync("/admin/knowledge/handbook/documents?id=offices&title=Offices",
            new StringContent("# Offices\n\nThe Berlin office is at Torstrasse 120.", Encoding.UTF8, "text/markdown"));

        Assert.Equal(HttpStatusCode.Created, json.StatusCode);
        Assert.Equal("/admin/knowledge/handbook/documents/leave", json.Headers.Location!.OriginalString);
        Assert.Equal(1, (await Json(json))["chunks"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Created, markdown.StatusCode);
        var listed = (await Json(await admin.GetAsync("/admin/knowledge/handbook/documents")))["documents"]!.AsArray();
        Assert.Equal(["leave", "offices"], listed.Select(d => d!["id"]!.GetValue<string>()));

        var longer = string.Join(' ', Enumerable.Repeat("Holiday requests go through the HR portal two weeks ahead.", 60));
        using var replaced = await admin.PostAsJsonAsync("/admin/knowledge/handbook/documents", new { id = "leave", title = "Annual leave", text = longer });
        Assert.True((await Json(replaced))["chunks"]!.GetValue<int>() > 1);
        Assert.Equal(2, (await Json(await admin.GetAsync("/admin/knowledge/handbook/documents")))["documents"]!.AsArray().Count);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/admin/knowledge/handbook/documents/offices")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/admin/knowledge/handbook/documents/offices")).StatusCode);
    }

    public static TheoryData<string, byte[], string, int, string> BadDocuments => new()
    {
        { "handbook", Encoding.UTF8.GetBytes("""{"title":"x","text":"   "}"""), "application/json", 400, "text" },
        { "handbook", [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0xFF, 0xFE, 0x00], "application/octet-stream", 400, "text" },
        { "handbook", Encoding.UTF8.GetBytes("a\0b\0c"), "text/plain", 400, "text" },
        { "Not A Name", Encoding.UTF8.GetBytes("text"), "text/plain", 400, "collection" },
        { "handbook", new byte[3 * 1024 * 1024], "text/plain", 413, "" },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task BadDocuments_GetAClearError(string collection, byte[] body, string contentType, int status, string param)
    {
        using var admin = _gateway.AdminClient();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new(contentType);

        using var response = await admin.PostAsync($"/admin/knowledge/{Uri.EscapeDataString(collection)}/documents", content);

        Assert.Equal(status, (int)response.StatusCode);
        var error = (await Json(response))["error"]!;
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        if (param.Length > 0)
        {
            Assert.Equal(param, error["param"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task UnknownCollection_Is404()
    {
        using var admin = _gateway.AdminClient();

        using var response = await admin.GetAsync("/admin/knowledge/nothing-here/documents");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("collection_not_found", (await Json(response))["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task RetrievalRelevance_RoutesHandbookQuestionsLocally_AndExplainShowsTheScore()
    {
        using var admin = _gateway.AdminClient();
        await admin.PostAsJsonAsync("/admin/knowledge/handbook/documents",
            new { id = "offices", title = "Offices", text = "The Berlin office is at Torstrasse 120 and opens at 7am." });

        var handbook = await Json(await admin.PostAsJsonAsync("/admin/route/explain", new
        {
            model = "auto",
            messages = new[] { new { role = "user", content = "What is the address of the Berlin office?" } },
        }));
        var unrelated = await Json(await admin.PostAsJsonAsync("/admin/route/explain", new
        {
            model = "auto",
            messages = new[] { new { role = "user", content = "Write a poem about the sea." } },
        }));

        Assert.Equal("local", handbook["decision"]!["route"]!.GetValue<string>());
        var condition = handbook["trace"]!["rules"]![0]!["conditions"]![0]!;
        Assert.Equal("retrieval_relevance", condition["field"]!.GetValue<string>());
        Assert.True(double.Parse(condition["actual"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) >= 0.5);
        Assert.Equal("frontier", unrelated["decision"]!["route"]!.GetValue<string>());
    }

    [Fact]
    public async Task Embeddings_OnALocalModel_AreRefusedClearly()
    {
        using var response = await _gateway.Client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-llama", input = "hello" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not serve embeddings", (await Json(response))["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalRoute_AnswersWithRetrievedSources()
    {
        using var admin = _gateway.AdminClient();
        await admin.PostAsJsonAsync("/admin/knowledge/handbook/documents",
            new { id = "oncall", title = "On-call", source = "eng/oncall.md", text = "Engineers on call are paid 300 euros per week plus time off for every night they are paged." });
        await admin.PostAsJsonAsync("/admin/knowledge/handbook/documents",
            new { id = "canteen", title = "Canteen", text = "The canteen serves vegetarian lunch from noon to two." });

        using var response = await _gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "local",
            max_tokens = 4,
            messages = new[] { new { role = "user", content = "How much are engineers paid for on-call weeks?" } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("oncall#0", response.Headers.GetValues("x-gateway-sources").Single(), StringComparison.Ordinal);
        var body = await Json(response);
        var source = body["sources"]![0]!;
        Assert.Equal("oncall", source["id"]!.GetValue<string>());
        Assert.Equal("eng/oncall.md", source["source"]!.GetValue<string>());
        Assert.True(source["score"]!.GetValue<double>() > 0.3);
        Assert.Equal("chat.completion", body["object"]!.GetValue<string>());
        Assert.True(body["usage"]!["prompt_tokens"]!.GetValue<int>() > 40); // the passage is in the prompt

        using var streamed = await _gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "local",
            stream = true,
            max_tokens = 4,
            messages = new[] { new { role = "user", content = "How much are engineers paid for on-call weeks?" } },
        });
        var chunks = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1]
            .Select(e => JsonNode.Parse(e["data: ".Length..])!).ToArray();
        var finish = chunks.Single(c => c["choices"]![0]!["finish_reason"] is JsonValue);
        Assert.Equal("oncall", finish["sources"]![0]!["id"]!.GetValue<string>());
        Assert.Single(chunks, c => c["sources"] is not null);
    }
}
