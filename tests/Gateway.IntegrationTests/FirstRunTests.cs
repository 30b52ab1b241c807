using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace Gateway.IntegrationTests;

/// <summary>The built gateway, started as its own process with nothing configured, as a new user would.</summary>
public sealed class FirstRunTests
{
    [Fact]
    public async Task GatewayProcess_StartsOnEmbeddedDefaults_FromAnyWorkingDirectory()
    {
        var workingDirectory = Directory.CreateTempSubdirectory("gateway-first-run-").FullName;
        var startInfo = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(Program).Assembly.Location, "--urls", "http://127.0.0.1:0" },
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var variable in new[] { "OPENAI_API_KEY", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
        {
            startInfo.Environment.Remove(variable);
        }

        using var process = Process.Start(startInfo)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            log.Enqueue(e.Data);
            const string marker = "Now listening on: ";
            var at = e.Data.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                listening.TrySetResult(e.Data[(at + marker.Length)..].Trim());
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            using var client = new HttpClient { BaseAddress = new Uri(url) };

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
            using var models = await client.GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
            var message = JsonNode.Parse(await models.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>();
            Assert.Contains("Auth__Keys__0__Key", message, StringComparison.Ordinal);

            // The start-up log says what to configure next.
            await Task.Delay(200);
            var text = string.Join('\n', log);
            Assert.Contains("No client keys are configured", text, StringComparison.Ordinal);
            Assert.Contains("OPENAI_API_KEY", text, StringComparison.Ordinal);
            Assert.Contains("LocalModels__<name>__Path", text, StringComparison.Ordinal);
        }
        catch (TimeoutException)
        {
            Assert.Fail("The gateway did not start:\n" + string.Join('\n', log));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(workingDirectory, recursive: true);
        }
    }
}
