using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gateway.Classification;

namespace Gateway.Benchmarks;

/// <summary>
/// Per-call latency percentiles, which BenchmarkDotNet does not give (its samples are means over
/// many calls): times each of N calls on one thread after a warm-up and prints p50/p90/p99/max.
/// </summary>
internal static class LatencyProbe
{
    public static void Run(int calls)
    {
        using var model = ClassifierModel.Load(Prompts.BundledModel);
        foreach (var (name, body) in new[] { ("2 KB prompt", Prompts.Request(Prompts.TwoKilobytes)), ("short prompt", Prompts.Request("hi, how are you?")) })
        {
            using var document = JsonDocument.Parse(body);
            for (var i = 0; i < 5_000; i++)
            {
                model.Classify(document.RootElement);
            }

            var samples = new double[calls];
            for (var i = 0; i < calls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                model.Classify(document.RootElement);
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1_000; i++)
            {
                model.Classify(document.RootElement);
            }

            var allocatedPerCall = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / 1_000.0;
            Array.Sort(samples);
            double P(double q) => samples[(int)Math.Min(samples.Length - 1, q * samples.Length)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"classify {name}: {calls} calls, p50 {P(0.5):F1} µs, p90 {P(0.9):F1} µs, p99 {P(0.99):F1} µs, max {samples[^1]:F1} µs, {allocatedPerCall:F0} B allocated per call"));
        }

        // The design the classifier study compared against: a full MiniLM pass over the prompt's first 128 tokens.
        using var embedder = new Gateway.Retrieval.MiniLmEmbedder();
        var text = Prompts.TwoKilobytes;
        embedder.Embed(text, 128);
        var minilm = new double[Math.Min(calls, 300)];
        for (var i = 0; i < minilm.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            embedder.Embed(text, 128);
            minilm[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(minilm);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"MiniLM sentence embedding, 2 KB prompt truncated to 128 tokens: {minilm.Length} calls, p50 {minilm[minilm.Length / 2]:F1} µs, p99 {minilm[(int)(minilm.Length * 0.99)]:F1} µs"));
    }
}
