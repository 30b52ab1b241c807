using BenchmarkDotNet.Attributes;
using Gateway.Retrieval;

namespace Gateway.Benchmarks;

/// <summary>
/// Exact top-k search over a collection of 384-d unit vectors (MiniLM's size), as the knowledge base
/// runs it per query. Queries are stored vectors plus noise, so each query's true neighbour is known;
/// the setup checks recall@3 of the search before timing it.
/// </summary>
[MemoryDiagnoser]
public class VectorSearchBenchmarks
{
    private KnowledgeChunk[] _chunks = null!;
    private float[][] _queries = null!;

    [Params(10_000, 100_000)]
    public int Chunks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _chunks = Enumerable.Range(0, Chunks).Select(i => new KnowledgeChunk($"doc{i / 10}", i % 10, "t", null, "text", Unit(random, null))).ToArray();
        _queries = Enumerable.Range(0, 64).Select(i => Unit(random, _chunks[i * 97 % Chunks].Embedding)).ToArray();
        var hits = _queries.Select((q, i) => KnowledgeBase.Search(_chunks, q, 3, -1f).Any(r => ReferenceEquals(r.Chunk, _chunks[i * 97 % Chunks]))).Count(h => h);
        Console.WriteLine($"// recall@3 over {_queries.Length} queries with known neighbours: {hits / (double)_queries.Length:P0}");
    }

    private static float[] Unit(Random random, float[]? near)
    {
        var v = new float[MiniLmEmbedder.Dimensions];
        for (var d = 0; d < v.Length; d++)
        {
            v[d] = (float)((random.NextDouble() * 2) - 1) * (near is null ? 1f : 0.3f) + (near?[d] ?? 0);
        }

        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(v);
        System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
        return v;
    }

    private int _next;

    [Benchmark(Description = "exact top-3 search")]
    public int Search() => KnowledgeBase.Search(_chunks, _queries[_next++ % _queries.Length], 3, -1f).Count;
}
