using Gateway.Testing;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>The built gateway, started as its own process with nothing configured, as a new user would.</summary>
public sealed class FirstRunTests
{
    [Fact]
    public async Task GatewayProcess_StartsOnEmbeddedDefaults_FromAnyWorkingDirectory()
    {
        var workingDirectory = TestFolders.Create("gateway-first-run-").FullName;
        await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string?>(), workingDirectory);
        using var client = gateway.Client();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        using var models = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        var message = JsonNode.Parse(await models.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("Auth__Keys__0__Key", message, StringComparison.Ordinal);

        // The start-up log says what to configure next.
        await Task.Delay(200);
        var text = gateway.Log;
        Assert.Contains("No client keys are configured", text, StringComparison.Ordinal);
        Assert.Contains("OPENAI_API_KEY", text, StringComparison.Ordinal);
        Assert.Contains("LocalModels__<name>__Path", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongSettings_AreAllReportedOnePerLine_WithoutAStackTrace_AndExitCode2()
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                typeof(Program).Assembly.Location, "--urls", "http://127.0.0.1:0",
                "--Upstreams:openai:BaseUrl=not a url", "--Auth:AdminKey=short", "--Ledger:Durability=maybe",
            },
            WorkingDirectory = TestFolders.Create("gateway-bad-settings-").FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var output = await stdout + stderr;

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("3 configuration problems", stderr, StringComparison.Ordinal);
        Assert.Contains("  - Auth:AdminKey must be at least 16 characters", stderr, StringComparison.Ordinal);
        Assert.Contains("  - Upstreams:openai:BaseUrl must be an absolute http(s) URL", stderr, StringComparison.Ordinal);
        Assert.Contains("  - Ledger:Durability must be 'batched' or 'sync'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimulateCommand_ReplaysTheConfiguredLedger_AndRefusesAnInvalidDraft()
    {
        var folder = TestFolders.Create("gateway-simulate-cli-").FullName;
        var ledger = $"--Ledger:ConnectionString=Data Source={Path.Combine(folder, "gateway.db")}";
        var bad = Path.Combine(folder, "bad.yaml");
        await File.WriteAllTextAsync(bad, "default_route: nope\nroutes: {}\n");

        var (code, stdout, stderr) = await Run("simulate", "--draft", bad, ledger);
        Assert.Equal(2, code);
        Assert.Contains("simulate: the draft is invalid: 2 configuration problems.", stderr, StringComparison.Ordinal);
        Assert.Contains("default_route: unknown route 'nope'", stderr, StringComparison.Ordinal);

        (code, stdout, stderr) = await Run("simulate", "--from", "2026-01-01", "--to", "2026-02-01", ledger);
        Assert.True(code == 0, stderr);
        var result = JsonNode.Parse(stdout)!;
        Assert.Equal(0, result["rows"]!.GetValue<long>());
        Assert.Equal("2026-01-01T00:00:00+00:00", result["from"]!.GetValue<string>());
    }

    [Fact]
    public async Task ADatabaseUpgradedByANewerRelease_StopsStartUp_WithExitCode2AndTheVersions()
    {
        var folder = TestFolders.Create("gateway-newer-schema-").FullName;
        var file = Path.Combine(folder, "gateway.db");
        var newer = Gateway.Hosting.GatewaySchema.Latest + 1;
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
                INSERT INTO schema_migrations VALUES ({newer}, 'a later release', '2027-01-01T00:00:00.0000000Z');
                """;
            await command.ExecuteNonQueryAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var (code, stdout, stderr) = await Run("--urls", "http://127.0.0.1:0", $"--Ledger:ConnectionString=Data Source={file}");

        Assert.Equal(2, code);
        Assert.Contains($"The gateway cannot start: The database's schema is at version {newer}, newer than the {newer - 1} this gateway knows",
            stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", stdout, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Run(params string[] args)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = TestFolders.Create("gateway-cli-").FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, stderr);
    }
}
