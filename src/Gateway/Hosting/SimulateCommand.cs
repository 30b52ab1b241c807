using System.Text.Json;
using Gateway.Admin;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;

namespace Gateway.Hosting;

/// <summary>
/// <c>Gateway simulate [--draft routing.yaml] [--from 2026-11-01] [--to 2026-12-01] [--team t]</c>: the offline form of
/// <c>POST /admin/policy/simulate</c>, against the ledger the settings point at; prints the same JSON. Without
/// <c>--draft</c> the policy file in use is replayed.
/// </summary>
public static class SimulateCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> args, TextWriter output, TextWriter errors)
    {
        string? Option(string name) => args.Select((a, i) => (a, i)).Where(x => x.a == name && x.i + 1 < args.Count).Select(x => args[x.i + 1]).FirstOrDefault();
        try
        {
            var now = DateTimeOffset.UtcNow;
            var from = SpendEndpoints.Parse(Option("--from"), "from") ?? now.AddDays(-7);
            var to = SpendEndpoints.Parse(Option("--to"), "to") ?? now.AddSeconds(1);
            var provider = services.GetRequiredService<FilePolicyProvider>();
            var path = Option("--draft") ?? provider.FilePath;
            if (!File.Exists(path))
            {
                await errors.WriteLineAsync($"simulate: {path}: file not found");
                return 2;
            }

            var loaded = services.GetRequiredService<PolicyLoader>().Load(await File.ReadAllTextAsync(path));
            if (loaded.Policy is null)
            {
                StartupCheck.Report([.. loaded.Errors.Select(e => $"{path}: {e}")], errors, "simulate: the draft is invalid");
                return 2;
            }

            var result = await services.GetRequiredService<PolicySimulator>().RunAsync(loaded.Policy, from, to, Option("--team"), CancellationToken.None);
            await output.WriteLineAsync(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        catch (OpenAiException bad)
        {
            await errors.WriteLineAsync($"simulate: {bad.Message}");
            return 2;
        }
    }
}
