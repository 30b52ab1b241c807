using System.Text.Json;
using System.Threading.Channels;
using Gateway.Hosting;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Spend;

/// <summary>
/// Takes ledger writes off the request path: records go into a bounded channel and one writer
/// commits them in batches (at most <see cref="LedgerOptions.BatchSize"/>, at least every
/// <see cref="LedgerOptions.FlushInterval"/>). Nothing is dropped:
/// <list type="bullet">
/// <item>a failing store is retried with backoff while records stay buffered;</item>
/// <item>a full buffer makes requests wait (and /readyz report unready) instead of losing records;</item>
/// <item>graceful shutdown drains the buffer; if the store is still failing then, the remaining
/// records are written to a spill file that the next start replays first.</item>
/// </list>
/// At start it creates the table, replays spill files and rebuilds the budget counters from the
/// ledger before the server accepts requests.
/// </summary>
public sealed class LedgerWriter(
    SpendLedgerStore store,
    BudgetGate gate,
    GatewayMetrics metrics,
    IOptions<LedgerOptions> options,
    TimeProvider timeProvider,
    ILogger<LedgerWriter> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Rows per transaction in batched mode (see <see cref="AppendAsync"/>).</summary>
    internal const int SliceRows = 64;

    /// <summary>
    /// The sleep between slices: real time, not the injected clock, because it gives the core to request threads rather
    /// than measuring anything. Caps the writer at roughly 40,000 records a second, far above what one gateway serves.
    /// </summary>
    private static readonly TimeSpan SlicePause = TimeSpan.FromMilliseconds(1);
    private static readonly JsonSerializerOptions SpillJson = new(JsonSerializerDefaults.Web);

    private readonly LedgerOptions _options = options.Value;
    private readonly Channel<Entry> _channel = Channel.CreateBounded<Entry>(new BoundedChannelOptions(options.Value.BufferCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private int _pending;

    /// <summary>Records accepted but not yet committed.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public bool BufferFull => Pending >= _options.BufferCapacity;

    /// <summary>Folder for spill files: <c>ledger-spill/</c> next to the SQLite file, or <c>data/ledger-spill</c> for PostgreSQL.</summary>
    public string SpillFolder { get; } = SpillFolderFor(options.Value);

    private static string SpillFolderFor(LedgerOptions options)
    {
        if (options.Provider == LedgerOptions.Sqlite
            && new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(options.ConnectionString).DataSource is { Length: > 0 } file && file != ":memory:")
        {
            return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", "ledger-spill");
        }

        return Path.Combine("data", "ledger-spill");
    }

    /// <summary>
    /// Queues a record. Returns when it is buffered (<c>batched</c>) or committed (<c>sync</c>).
    /// Waits while the buffer is full; the client's cancellation does not drop the record.
    /// </summary>
    public async ValueTask EnqueueAsync(SpendRecord record)
    {
        var entry = new Entry(record, _options.IsSync ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null);
        metrics.LedgerPending(Interlocked.Increment(ref _pending));
        if (!_channel.Writer.TryWrite(entry))
        {
            Log.LedgerBufferFull(logger, _options.BufferCapacity);
            await _channel.Writer.WriteAsync(entry, CancellationToken.None);
        }

        if (entry.Committed is { } committed)
        {
            await committed.Task;
        }
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The server must not take requests before budgets are known, so this runs in StartAsync.
        await RetryAsync(() => store.InitializeAsync(cancellationToken), attempts: 5, cancellationToken);
        await ReplaySpillAsync(cancellationToken);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var dayStart = new DateTimeOffset(now.Date, TimeSpan.Zero);
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var spend = await store.BudgetSpendAsync(dayStart, monthStart, cancellationToken);
        await gate.SeedAsync(spend);
        Log.LedgerReady(logger, spend.Count);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _channel.Reader;
        var batch = new List<Entry>(_options.BatchSize);
        while (true)
        {
            if (reader.Count == 0)
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    return; // drained
                }

                try
                {
                    await reader.WaitToReadAsync(stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    continue; // stopping: write what is left, then return
                }
            }

            // Let the flush interval gather the batch, unless a full one is already queued. Records arriving meanwhile
            // only queue: one timer per batch, not a wake-up of this loop per record. In sync mode requests are waiting
            // on their commit, so the batch is whoever is queued now (group commit): records that arrive while it is
            // written form the next one.
            if (!_options.IsSync && !stoppingToken.IsCancellationRequested && reader.Count < _options.BatchSize)
            {
                try
                {
                    await Task.Delay(_options.FlushInterval, timeProvider, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: write what is queued now.
                }
            }

            while (batch.Count < _options.BatchSize && reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }

            if (batch.Count > 0)
            {
                await WriteAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
    }

    private async Task WriteAsync(List<Entry> batch, CancellationToken stoppingToken)
    {
        var records = batch.Select(e => e.Record).ToList();
        var backoff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await AppendAsync(records, stoppingToken);
                metrics.LedgerWritten(records.Count, succeeded: true);
                Complete(batch);
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                metrics.LedgerWritten(records.Count, succeeded: false);
                Log.LedgerWriteFailed(logger, records.Count, attempt, ex.Message);
                if (stoppingToken.IsCancellationRequested && attempt >= 3)
                {
                    await SpillAsync(records);
                    Complete(batch);
                    return;
                }

                try
                {
                    await Task.Delay(backoff, timeProvider, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: retry a couple of times without waiting, then spill.
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>
    /// Commits a batch. In batched mode it goes in transactions of <see cref="SliceRows"/> rows with a short sleep between
    /// them: the writer shares the cores that serve requests, and one transaction of a few hundred rows held a core for
    /// 3–10 ms, which a request arriving meanwhile waited out (docs/benchmarks.md, "The ledger batch"). A slice takes
    /// ~0.5 ms. In sync mode requests wait for the commit, so the group goes in one transaction; when stopping, no sleep.
    /// A retry after a slice failed rewrites the committed slices too, which the store's append ignores.
    /// </summary>
    private async Task AppendAsync(List<SpendRecord> records, CancellationToken stoppingToken)
    {
        if (_options.IsSync || records.Count <= SliceRows)
        {
            await store.AppendAsync(records, CancellationToken.None);
            return;
        }

        for (var start = 0; start < records.Count; start += SliceRows)
        {
            if (start > 0 && !stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(SlicePause, CancellationToken.None);
            }

            await store.AppendAsync(records.GetRange(start, Math.Min(SliceRows, records.Count - start)), CancellationToken.None);
        }
    }

    private void Complete(List<Entry> batch)
    {
        metrics.LedgerPending(Interlocked.Add(ref _pending, -batch.Count));
        foreach (var entry in batch)
        {
            entry.Committed?.TrySetResult();
        }
    }

    private async Task SpillAsync(IReadOnlyList<SpendRecord> records)
    {
        Directory.CreateDirectory(SpillFolder);
        var path = Path.Combine(SpillFolder, $"spill-{timeProvider.GetUtcNow():yyyyMMddTHHmmssfff}-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(path, records.Select(r => JsonSerializer.Serialize(r, SpillJson)));
        Log.LedgerSpilled(logger, records.Count, path);
    }

    private async Task ReplaySpillAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(SpillFolder))
        {
            return;
        }

        foreach (var path in Directory.EnumerateFiles(SpillFolder, "spill-*.jsonl").Order(StringComparer.Ordinal))
        {
            var records = (await File.ReadAllLinesAsync(path, cancellationToken))
                .Where(line => line.Length > 0)
                .Select(line => JsonSerializer.Deserialize<SpendRecord>(line, SpillJson)!)
                .ToList();
            await store.AppendAsync(records, cancellationToken); // idempotent: a replay after a partial one is harmless
            File.Delete(path);
            Log.LedgerReplayed(logger, records.Count, path);
        }
    }

    private async Task RetryAsync(Func<Task> action, int attempts, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception ex) when (attempt < attempts && ex is not OperationCanceledException)
            {
                Log.LedgerWriteFailed(logger, 0, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(attempt), timeProvider, cancellationToken);
            }
        }
    }

    private sealed record Entry(SpendRecord Record, TaskCompletionSource? Committed);
}
