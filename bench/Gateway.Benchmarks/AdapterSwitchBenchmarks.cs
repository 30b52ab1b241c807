using BenchmarkDotNet.Attributes;
using Gateway.IntegrationTests.Infrastructure;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Gateway.Benchmarks;

/// <summary>
/// What switching LoRA adapters costs on a pooled context, against the base: setting an adapter
/// and clearing it (what every adapter request does), and one decode step with and without an
/// adapter applied. Tiny generated model (2 layers, width 64): absolute figures say little about a
/// 3B model; the ratio of switch to decode is the point.
/// </summary>
public class AdapterSwitchBenchmarks
{
    private LLamaWeights _weights = null!;
    private LLamaContext _context = null!;
    private LoraAdapter _adapter = null!;
    private LLamaBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var folder = Directory.CreateTempSubdirectory("adapter-bench-").FullName;
        var parameters = new ModelParams(TinyGguf.Write(Path.Combine(folder, "base.gguf"))) { ContextSize = 256 };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
        _adapter = _weights.NativeHandle.LoadLoraFromFile(TinyGguf.WriteLora(Path.Combine(folder, "a.gguf"), seed: 2));
        _batch = new LLamaBatch();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    [Benchmark(Baseline = true, Description = "decode one token, base")]
    public DecodeResult DecodeBase()
    {
        _context.NativeHandle.SetLoraAdapters([]);
        return Decode();
    }

    [Benchmark(Description = "decode one token, adapter applied")]
    public DecodeResult DecodeWithAdapter()
    {
        _context.NativeHandle.SetLoraAdapters([(_adapter, 1f)]);
        return Decode();
    }

    [Benchmark(Description = "switch: set adapter, then clear")]
    public void Switch()
    {
        _context.NativeHandle.SetLoraAdapters([(_adapter, 1f)]);
        _context.NativeHandle.SetLoraAdapters([]);
    }

    private DecodeResult Decode()
    {
        _context.NativeHandle.MemoryClear(false);
        _batch.Clear();
        _batch.Add((LLamaToken)5, 0, LLamaSeqId.Zero, true);
        return _context.Decode(_batch);
    }
}
