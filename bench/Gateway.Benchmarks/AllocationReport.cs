using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Gateway.Benchmarks;

/// <summary>
/// Where a process's allocations come from, read from an EventPipe trace taken with <c>dotnet-trace collect --profile
/// gc-verbose</c> (bench/http/alloc.sh): the runtime samples one allocation about every 100 KB (GC/AllocationTick)
/// with its type and call stack. Prints the sampled bytes by type, and by the first frame of each stack that belongs
/// to the gateway, YARP or ASP.NET Core (the code that asked for the memory), each as a share and, given the number
/// of requests served while tracing, as bytes per request.
/// </summary>
internal static class AllocationReport
{
    // Frames from these namespaces are helpers (collections, strings, buffers, the runtime); the allocation is charged
    // to the first caller outside them.
    private static readonly string[] Plumbing =
    [
        "System.", "Microsoft.Extensions.", "Microsoft.Win32.", "Internal.", "Interop", "?",
    ];

    public static void Run(string tracePath, long requests, int top, string? onlyType = null)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(tracePath);
        using var log = new TraceLog(etlx);
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var bySite = new Dictionary<string, long>(StringComparer.Ordinal);
        var byPath = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0, samples = 0;
        var source = log.Events.GetSource();
        source.Clr.GCAllocationTick += tick =>
        {
            if (onlyType is not null && tick.TypeName != onlyType)
            {
                return;
            }

            var bytes = tick.AllocationAmount64;
            total += bytes;
            samples++;
            Add(byType, tick.TypeName ?? "?", bytes);
            var (site, path) = Attribute(tick);
            Add(bySite, site, bytes);
            Add(byPath, path, bytes);
        };
        source.Process();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{samples} allocation samples, {total / 1048576.0:F1} MiB sampled{(requests > 0 ? $", {requests} requests: {total / (double)requests / 1024:F1} KB per request" : "")}"));
        Print("by type", byType, total, requests, top);
        Print("by allocating site (first frame outside System.*/Microsoft.Extensions.*)", bySite, total, requests, top);
        Print("by site, with its two callers", byPath, total, requests, top);
    }

    private static (string Site, string Path) Attribute(GCAllocationTickTraceData tick)
    {
        var frames = new List<string>();
        for (var frame = tick.CallStack(); frame is not null && frames.Count < 40; frame = frame.Caller)
        {
            frames.Add(frame.CodeAddress.FullMethodName is { Length: > 0 } name ? name : frame.CodeAddress.ModuleName + "!?");
        }

        var index = frames.FindIndex(name => !Array.Exists(Plumbing, name.StartsWith));
        if (index < 0)
        {
            return (frames.Count > 0 ? "(runtime) " + frames[0] : "(no stack)", frames.Count > 0 ? frames[0] : "(no stack)");
        }

        return (Short(frames[index]), string.Join(" <- ", frames.Skip(index).Take(3).Select(Short)));
    }

    // "Namespace.Type.Method(args)" without the arguments and the leading namespaces.
    private static string Short(string name)
    {
        var paren = name.IndexOf('(', StringComparison.Ordinal);
        var bare = paren > 0 ? name[..paren] : name;
        var parts = bare.Split('.');
        return parts.Length > 3 ? string.Join('.', parts[^3..]) : bare;
    }

    private static void Add(Dictionary<string, long> into, string key, long bytes) =>
        into[key] = into.GetValueOrDefault(key) + bytes;

    private static void Print(string title, Dictionary<string, long> counts, long total, long requests, int top)
    {
        Console.WriteLine($"== {title}");
        foreach (var (key, bytes) in counts.OrderByDescending(pair => pair.Value).Take(top))
        {
            var perRequest = requests > 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)requests,9:F0} B/req  ") : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{100.0 * bytes / total,6:F1}%  {perRequest}{key}"));
        }
    }
}
