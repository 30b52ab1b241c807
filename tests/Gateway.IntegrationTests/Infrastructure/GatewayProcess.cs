using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Testing;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// The built gateway started as its own operating-system process (<c>dotnet Gateway.dll</c>), as an operator runs it:
/// its own runtime, thread pool, connection pools and Redis connection. Settings are command-line <c>--Key=Value</c>
/// arguments; the URL is whatever the process prints after "Now listening on:". Killed on dispose.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log;

    private GatewayProcess(Process process, ConcurrentQueue<string> log, string baseUrl)
    {
        _process = process;
        _log = log;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved.</summary>
    public string Log => string.Join('\n', _log);

    /// <summary>Starts the gateway and waits until it listens; throws with its output when it does not within 60 s.</summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(Program).Assembly.Location, "--urls", "http://127.0.0.1:0" },
            WorkingDirectory = workingDirectory ?? TestFolders.Create("gateway-process-").FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in settings)
        {
            startInfo.ArgumentList.Add($"--{key}={value}");
        }

        // What a developer's shell may hold must not change what the test starts.
        foreach (var variable in new[] { "OPENAI_API_KEY", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
        {
            startInfo.Environment.Remove(variable);
        }

        var process = Process.Start(startInfo)!;
        var log = new ConcurrentQueue<string>();
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
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                log.Enqueue(e.Data);
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The gateway exited with code {process.ExitCode}."));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new GatewayProcess(process, log, await listening.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            await Stop(process);
            throw new InvalidOperationException($"The gateway did not start ({ex.Message}):\n{string.Join('\n', log)}", ex);
        }
    }

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await Stop(_process);
    }

    private static async Task Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }
}
