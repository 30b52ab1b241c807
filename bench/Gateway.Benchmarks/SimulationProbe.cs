using System.Diagnostics;
using System.Globalization;
using Gateway.Classification;
using Gateway.Hosting;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;
using Gateway.Spend;
using Microsoft.Extensions.Options;

namespace Gateway.Benchmarks;

/// <summary>
/// <c>simulate [rows] [sqlite|postgres connection]</c>: writes synthetic ledger rows with decision facts into a fresh
/// store, then replays them through <see cref="PolicySimulator"/> under the 50-rule benchmark policy and prints rows/s
/// and the process's peak working set (before and after the replay, so growth with the range shows).
/// </summary>
internal static class SimulationProbe
{
    public static async Task RunAsync(int rows, string? postgres)
    {
        var folder = Directory.CreateTempSubdirectory("gateway-simulate-").FullName;
        var options = postgres is null
            ? new LedgerOptions { ConnectionString = $"Data Source={Path.Combine(folder, "ledger.db")}" }
            : new LedgerOptions { Provider = LedgerOptions.Postgres, ConnectionString = postgres };
        await using var database = new GatewayDatabase(Options.Create(options));
        var store = new SpendLedgerStore(database);
        var policy = new PolicyLoader(new PolicyDecisionBenchmarks.Environment(), TimeProvider.System).Load(PolicyDecisionBenchmarks.Policy(50)).Policy!;

        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(7);
        var write = Stopwatch.StartNew();
        const int Batch = 5000;
        for (var written = 0; written < rows; written += Batch)
        {
            var batch = new List<SpendRecord>(Batch);
            for (var i = written; i < Math.Min(rows, written + Batch); i++)
            {
                var scores = PromptCategories.All.ToDictionary(c => c, _ => (float)random.NextDouble() / 7);
                var classification = new PromptClassification("chat", scores, (float)random.NextDouble(), 0.5f, "bench");
                var shape = new RequestShape(OpenAiOperation.ChatCompletions, "auto", i % 3 == 0, i % 5 == 0, null, 1, 400 + (i % 4000));
                var team = i % 2 == 0 ? "research" : "support";
                var facts = new RequestFacts(team, team + "-key", null, null);
                batch.Add(new SpendRecord
                {
                    RequestId = $"sim-{i}",
                    Timestamp = start.AddSeconds(i * 2.5),
                    KeyId = team + "-key",
                    Team = team,
                    Route = "r0",
                    Model = "m0",
                    Status = 200,
                    Usage = new Usage(500 + (i % 1500), 100 + (i % 400)),
                    CostUsd = 0.001m,
                    Latency = TimeSpan.FromMilliseconds(5),
                    PolicyVersion = "bench",
                    DecisionFacts = DecisionFacts.Of(policy, shape, classification, facts).ToJson(),
                });
            }

            await store.AppendAsync(batch, CancellationToken.None);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {rows:N0} rows in {write.Elapsed.TotalSeconds:F1} s ({(postgres is null ? "SQLite" : "PostgreSQL")})"));
        var scan = Stopwatch.StartNew();
        long scanned = 0;
        var parsed = 0L;
        await foreach (var row in store.RowsAsync(start, start.AddYears(1), null, CancellationToken.None))
        {
            scanned++;
            parsed += DecisionFacts.Parse(row.DecisionFacts)?.BodyLength ?? 0;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reading and parsing alone: {scanned / scan.Elapsed.TotalSeconds:N0} rows/s"));
        GC.Collect();
        var before = Process.GetCurrentProcess().PeakWorkingSet64;
        var replay = Stopwatch.StartNew();
        var result = await new PolicySimulator(new Router(), store).RunAsync(policy, start, start.AddYears(1), null, CancellationToken.None);
        replay.Stop();
        var after = Process.GetCurrentProcess().PeakWorkingSet64;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"replayed {result.Replayed:N0} rows in {replay.Elapsed.TotalSeconds:F2} s: {result.Replayed / replay.Elapsed.TotalSeconds:N0} rows/s; peak working set {before / 1048576} MB before the replay, {after / 1048576} MB after"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"simulated cost ${result.SimulatedCostUsd}, {result.ByRoute.Count} routes, {result.Refused.Values.Sum()} refused"));
        Directory.Delete(folder, recursive: true);
    }
}
