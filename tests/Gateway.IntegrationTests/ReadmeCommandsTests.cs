using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Classifier.Training;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>Commands in the README, run as written (paths and arguments read from the README itself).</summary>
public sealed partial class ReadmeCommandsTests
{
    private static readonly string Root = FindRoot();

    private static string Readme => File.ReadAllText(Path.Combine(Root, "README.md"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void CalibrateExample_RunsOnAFileThatShips()
    {
        var line = Readme.Split('\n').Single(l => l.StartsWith("$T calibrate ", StringComparison.Ordinal));
        var args = line["$T ".Length..].Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => File.Exists(Path.Combine(Root, a)) ? Path.Combine(Root, a) : a)
            .Concat(["--model", Path.Combine(Root, "models", "classifier", "classifier.onnx")])
            .ToArray();

        Assert.True(File.Exists(args[Array.IndexOf(args, "--data") + 1]), line);
        Assert.Equal(0, TrainingCli.Main(args));
    }

    [Fact]
    public async Task KnowledgeExample_PostsTheShippedDocument()
    {
        var readme = Readme;
        var file = DataBinary().Match(readme).Groups[1].Value;
        var pathAndQuery = KnowledgePost().Match(readme).Groups[1].Value;
        Assert.True(File.Exists(Path.Combine(Root, file)), $"the README posts {file}, which is not in the repository");
        Assert.Contains("ADMIN=$Auth__AdminKey", readme, StringComparison.Ordinal);

        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(upstream.BaseUrl);
        using var admin = gateway.AdminClient();
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(Root, file)));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");

        using var created = await admin.PostAsync(pathAndQuery, content);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var listed = JsonNode.Parse(await admin.GetStringAsync(pathAndQuery.Split('?')[0]))!["documents"]!.AsArray();
        Assert.Equal("Annual leave", Assert.Single(listed)!["title"]!.GetValue<string>());
    }

    [GeneratedRegex(@"--data-binary @(\S+)")]
    private static partial Regex DataBinary();

    [GeneratedRegex("curl -X POST \"localhost:8080(/admin/knowledge/[^\"]+)\"")]
    private static partial Regex KnowledgePost();
}
