using System.Runtime;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>Settings of <see cref="LargeBodyReclaimer"/> (<c>Runtime:*</c>).</summary>
public sealed class RuntimeOptions
{
    public const string Section = "Runtime";

    /// <summary>Give memory back to the operating system after large request bodies (on by default).</summary>
    public bool ReclaimAfterLargeBodies { get; set; } = true;

    /// <summary>A body at least this large counts as large (default 1 MiB; below <see cref="LargeBodyReclaimer.Floor"/> it acts as that).</summary>
    public long LargeBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How long no large body must arrive before the memory is given back (default 2 s).</summary>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Returns the memory that large request bodies took. A 15 MiB body lives in the large-object heap as the buffer,
/// the decoded message and the rewritten body; the garbage collector only reclaims those in a full collection, which
/// an idle gateway never triggers, so resident memory stayed at its high-water mark (docs/benchmarks.md, "Memory").
/// After a burst of large bodies has been quiet for <see cref="RuntimeOptions.QuietPeriod"/>, this runs one aggressive,
/// compacting collection, which also decommits the freed memory. At most one per quiet period, never on the request
/// path, and never for small-body traffic.
/// </summary>
public sealed class LargeBodyReclaimer(IOptions<RuntimeOptions> options, TimeProvider time, ILogger<LargeBodyReclaimer> logger) : BackgroundService
{
    /// <summary>Bodies smaller than this are never reported, so most requests skip even the service lookup.</summary>
    public const long Floor = 64 * 1024;

    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _lastLargeBody;
    private int _pending;

    /// <summary>Completed reclaims (for tests and the log).</summary>
    public int Reclaims { get; private set; }

    /// <summary>Called with each buffered body's size; cheap for small bodies (one comparison).</summary>
    public void Note(long bytes)
    {
        var settings = options.Value;
        if (bytes < settings.LargeBodyBytes || !settings.ReclaimAfterLargeBodies)
        {
            return;
        }

        Volatile.Write(ref _lastLargeBody, time.GetTimestamp());
        if (Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _signal.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _signal.WaitAsync(stoppingToken);
                // Wait until the burst is over: a large body that arrives meanwhile moves the deadline.
                while (true)
                {
                    var left = QuietLeft();
                    if (left > TimeSpan.Zero)
                    {
                        await Task.Delay(left, time, stoppingToken);
                        continue;
                    }

                    Volatile.Write(ref _pending, 0);
                    // A body noted between the check and the reset found the flag still set and did not signal: wait
                    // for it too (a body noted after the reset signals, and gets a reclaim of its own).
                    if (QuietLeft() > TimeSpan.Zero && Interlocked.Exchange(ref _pending, 1) == 0)
                    {
                        continue;
                    }

                    break;
                }

                var before = GC.GetTotalMemory(forceFullCollection: false);
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                Reclaims++;
                Telemetry.Log.MemoryReclaimed(logger, before / (1024 * 1024), GC.GetTotalMemory(forceFullCollection: false) / (1024 * 1024));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private TimeSpan QuietLeft() => options.Value.QuietPeriod - time.GetElapsedTime(Volatile.Read(ref _lastLargeBody));

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }
}
