using BenchmarkDotNet.Attributes;
using Gateway.Hosting;
using Gateway.Spend;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Benchmarks;

/// <summary>
/// One ledger batch as the writer commits it under load (issue 16): <see cref="Rows"/> records shaped like the HTTP
/// bench's (sequential request ids, a ~400-byte decision-facts JSON) appended to an on-disk SQLite ledger in WAL mode
/// that already holds <see cref="Prefill"/> rows. The batch's wall time is how long the writer holds the gateway's core.
/// </summary>
[MemoryDiagnoser]
public class LedgerAppendBenchmarks
{
    private const string Facts = """{"op":"ChatCompletions","model":"auto","stream":true,"tools":false,"max_tokens":64,"n":1,"bytes":2045,"scores":[0,0,0.0001,0,0,0.9224,0.0774],"needs_strong":0.2115,"typical_output":6,"Shape":{"Operation":0,"Model":"auto","Stream":true,"HasTools":false,"MaxTokens":64,"Choices":1,"BodyLength":2045,"FollowUp":false}}""";
    private const int Prefill = 100_000;
    private string _folder = null!;
    private SpendLedgerStore _store = null!;
    private long _next;
    private SpendRecord[] _batch = null!;

    [Params(600)]
    public int Rows { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("bench-ledger-").FullName;
        var database = new GatewayDatabase(Options.Create(new LedgerOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "gateway.db")}" }));
        _store = new SpendLedgerStore(database);
        for (var i = 0; i < Prefill; i += 1000)
        {
            await _store.AppendAsync(Next(1000), CancellationToken.None);
        }

        _batch = new SpendRecord[Rows];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [IterationSetup]
    public void NextBatch() => Next(_batch.Length).CopyTo(_batch, 0);

    /// <summary>The store's append (positional binding through SQLitePCL, one transaction).</summary>
    [Benchmark]
    public Task Append() => _store.AppendAsync(_batch, CancellationToken.None);

    /// <summary>The same batch split into transactions of 64 rows, as the writer commits it.</summary>
    [Benchmark]
    public async Task AppendInSlices()
    {
        for (var start = 0; start < _batch.Length; start += 64)
        {
            await _store.AppendAsync(new ArraySegment<SpendRecord>(_batch, start, Math.Min(64, _batch.Length - start)), CancellationToken.None);
        }
    }

    /// <summary>Baseline: the store's append before issue 16, Microsoft.Data.Sqlite binding 27 named parameters per row.</summary>
    [Benchmark(Baseline = true)]
    public async Task AppendByName()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "gateway.db")}");
        await connection.OpenAsync();
        await using (var synchronous = connection.CreateCommand())
        {
            synchronous.CommandText = "PRAGMA synchronous=NORMAL;";
            await synchronous.ExecuteNonQueryAsync();
        }

        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Sql.Replace(
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", $"({string.Join(",", Enumerable.Range(0, 27).Select(i => $"@p{i}"))})",
            StringComparison.Ordinal);
        var parameters = new SqliteParameter[27];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = "@p" + i;
            command.Parameters.Add(parameters[i]);
        }

        await command.PrepareAsync();
        foreach (var r in _batch)
        {
            object?[] values =
            [
                r.RequestId, SpendLedgerStore.Time(r.Timestamp), r.KeyId, r.Team, r.Route, r.Model, r.Category, (double)r.NeedsStrong!.Value,
                r.Status, 1, (long)r.Usage!.PromptTokens, (long)r.Usage.CompletionTokens, 0L, 0, SpendLedgerStore.Nano(r.CostUsd),
                SpendLedgerStore.Nano(r.CounterfactualCostUsd!.Value), r.Latency.TotalMilliseconds, r.TimeToFirstByte!.Value.TotalMilliseconds,
                null, r.PolicyVersion, r.DecisionFacts, r.ExpectedQuality, r.ReferenceQuality, r.Operation, null, null, null,
            ];
            for (var i = 0; i < values.Length; i++)
            {
                parameters[i].Value = values[i] ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private const string Sql = """
        INSERT INTO spend_ledger (request_id, at, key_id, team, route, model, category, needs_strong, status, stream,
            prompt_tokens, completion_tokens, cached_prompt_tokens, usage_estimated, cost_nusd, counterfactual_nusd,
            latency_ms, ttfb_ms, fallback_from, policy_version, decision_facts, expected_quality, reference_quality, operation,
            end_user, tags, metadata)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT (request_id) DO NOTHING;
        """;

    internal SpendRecord[] Next(int count)
    {
        var now = DateTimeOffset.UtcNow;
        var records = new SpendRecord[count];
        for (var i = 0; i < count; i++)
        {
            records[i] = new SpendRecord
            {
                RequestId = $"req_01a23ac55b7324d4d9b6da{_next++:x10}",
                Timestamp = now,
                KeyId = "key-ce0f2ba8",
                Team = "bench",
                Route = "frontier-mini",
                Model = "gpt-4o-mini",
                Category = "extraction",
                NeedsStrong = 0.2115f,
                Status = 200,
                Usage = new Usage(25, 6, 0, false),
                CostUsd = 0.00000735m,
                CounterfactualCostUsd = 0.0001225m,
                Latency = TimeSpan.FromMilliseconds(5.45),
                TimeToFirstByte = TimeSpan.FromMilliseconds(5.36),
                PolicyVersion = "bbd201e426e0",
                Stream = true,
                Operation = "chat.completions",
                ExpectedQuality = 0.8687,
                ReferenceQuality = 0.92,
                DecisionFacts = Facts,
            };
        }

        return records;
    }
}
