using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Gateway.Hosting;
using Gateway.Spend;
using Microsoft.Extensions.Options;

namespace Gateway.Benchmarks;

/// <summary>
/// How long one ledger commit holds a core, per commit rather than on average: appends <c>commits</c> transactions of
/// <c>rows</c> records (shaped like the HTTP bench's) to a fresh on-disk SQLite ledger and prints percentiles of each
/// commit's wall time and of its thread's CPU time (which excludes fsync waits). WAL checkpoints land in some commits;
/// <c>checkpoint-pages</c> overrides <see cref="LedgerOptions.WalCheckpointPages"/>.
/// </summary>
internal static class LedgerProbe
{
    public static async Task RunAsync(int rows, int commits, int? checkpointPages)
    {
        var folder = Directory.CreateTempSubdirectory("bench-ledger-probe-").FullName;
        try
        {
            var options = new LedgerOptions { ConnectionString = $"Data Source={Path.Combine(folder, "gateway.db")}" };
            if (checkpointPages is { } pages)
            {
                options.WalCheckpointPages = pages;
            }

            var database = new GatewayDatabase(Options.Create(options));
            var store = new SpendLedgerStore(database);
            var records = new LedgerAppendBenchmarks();
            var wall = new double[commits];
            var cpu = new double[commits];
            for (var i = -commits / 10; i < commits; i++)
            {
                var batch = records.Next(rows);
                var startCpu = ThreadCpuMicroseconds();
                var start = Stopwatch.GetTimestamp();
                await store.AppendAsync(batch, CancellationToken.None);
                if (i >= 0)
                {
                    wall[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                    cpu[i] = ThreadCpuMicroseconds() - startCpu;
                }
            }

            Print("wall", wall, rows);
            Print("thread CPU", cpu, rows);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Print(string what, double[] samples, int rows)
    {
        Array.Sort(samples);
        double P(double q) => samples[(int)Math.Min(samples.Length - 1, q * samples.Length)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{samples.Length} commits of {rows} rows, {what}: p50 {P(0.5):F0} µs, p90 {P(0.9):F0} µs, p99 {P(0.99):F0} µs, max {samples[^1]:F0} µs, {samples.Average() / rows:F2} µs per row on average"));
    }

    // The awaits in AppendAsync complete synchronously on SQLite, so the whole commit runs on this thread.
    private static double ThreadCpuMicroseconds()
    {
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var time);
        return time.Seconds * 1e6 + time.Nanoseconds / 1e3;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
