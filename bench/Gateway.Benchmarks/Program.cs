using BenchmarkDotNet.Running;
using Gateway.Benchmarks;

// `latency [calls]` prints per-call percentiles; `ledger [rows] [commits] [checkpoint-pages]` the time each ledger
// commit takes; `allocations TRACE.nettrace [requests] [top] [type]` where a traced process's allocations come from
// (bench/http/alloc.sh); anything else goes to BenchmarkDotNet's switcher.
if (args is ["latency", ..])
{
    LatencyProbe.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200_000);
    return;
}

if (args is ["simulate", ..])
{
    await SimulationProbe.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000,
        args.Length > 2 ? args[2] : null);
    return;
}

if (args is ["ledger", ..])
{
    await LedgerProbe.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 64,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2_000,
        args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : null);
    return;
}

if (args is ["allocations", var trace, ..])
{
    AllocationReport.Run(trace, args.Length > 2 ? long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0,
        args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 30, args.Length > 4 ? args[4] : null);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ClassifierBenchmarks).Assembly).Run(args);
