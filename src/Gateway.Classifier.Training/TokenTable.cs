using System.Runtime.InteropServices;
using Gateway.Classification;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;

namespace Gateway.Classifier.Training;

/// <summary>
/// A static token-embedding table distilled once from all-MiniLM-L6-v2, as Model2Vec does: every
/// vocabulary token is encoded by MiniLM on its own (<c>[CLS] token [SEP]</c>, mean-pooled), the
/// 384-d rows are reduced with PCA, and each row is scaled by a smooth inverse frequency weight
/// a / (a + p(token)) so frequent tokens ("the", "[CLS]") count little in a prompt's sum. At serving
/// time a prompt's embedding is the normalised sum of its tokens' rows: tens of µs instead of the
/// milliseconds of a transformer pass.
/// </summary>
internal sealed class TokenTable
{
    /// <summary>Weight of the SIF scheme (Arora et al.); 1e-3 is the value Model2Vec and the paper use.</summary>
    public const double SifA = 1e-3;

    public TokenTable(int vocabulary, int dimensions, float[] rows)
    {
        Vocabulary = vocabulary;
        Dimensions = dimensions;
        Rows = rows;
    }

    public int Vocabulary { get; }
    public int Dimensions { get; }

    /// <summary>Row-major [vocabulary, dimensions], SIF weights applied.</summary>
    public float[] Rows { get; }

    /// <summary>The graph's arithmetic: sum of the tokens' rows, L2-normalised (zero stays zero).</summary>
    public float[] Embed(ReadOnlySpan<long> tokens)
    {
        var e = new float[Dimensions];
        foreach (var t in tokens)
        {
            var row = Rows.AsSpan((int)t * Dimensions, Dimensions);
            for (var d = 0; d < Dimensions; d++)
            {
                e[d] += row[d];
            }
        }

        var norm = 0f;
        foreach (var v in e)
        {
            norm += v * v;
        }

        norm = MathF.Sqrt(norm) + 1e-6f;
        for (var d = 0; d < Dimensions; d++)
        {
            e[d] /= norm;
        }

        return e;
    }

    /// <summary>
    /// Builds the table: MiniLM rows (cached at <paramref name="cachePath"/>, they take minutes and never change),
    /// PCA to <paramref name="dimensions"/>, SIF weights from <paramref name="tokenCounts"/> (counts in the training prompts).
    /// </summary>
    public static TokenTable Build(int dimensions, long[] tokenCounts, string cachePath, TextWriter log)
    {
        var raw = MiniLmRows(cachePath, log);
        var vocabulary = raw.Length / MiniLm.Dimensions;
        var projected = Pca(raw, vocabulary, dimensions, log);
        var total = (double)tokenCounts.Sum() + vocabulary;
        for (var v = 0; v < vocabulary; v++)
        {
            var p = (tokenCounts[v] + 1) / total;
            var weight = (float)(SifA / (SifA + p));
            for (var d = 0; d < dimensions; d++)
            {
                // Rounded to what the exported float16 table holds, so trainer and graph agree.
                projected[(v * dimensions) + d] = (float)(Half)(projected[(v * dimensions) + d] * weight);
            }
        }

        return new TokenTable(vocabulary, dimensions, projected);
    }

    private static float[] MiniLmRows(string cachePath, TextWriter log)
    {
        var vocabulary = MiniLm.ReadVocabulary().Length;
        if (File.Exists(cachePath) && new FileInfo(cachePath).Length == (long)vocabulary * MiniLm.Dimensions * sizeof(float))
        {
            var cached = new float[vocabulary * MiniLm.Dimensions];
            using var file = File.OpenRead(cachePath);
            file.ReadExactly(MemoryMarshal.AsBytes(cached.AsSpan()));
            log.WriteLine($"token table: MiniLM rows from {cachePath}");
            return cached;
        }

        log.WriteLine($"token table: encoding {vocabulary} tokens with MiniLM (once; cached at {cachePath})");
        var tokenizer = MiniLm.CreateTokenizer();
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        using var session = new InferenceSession(MiniLm.ReadModel(), options);
        var rows = new float[vocabulary * MiniLm.Dimensions];
        const int Batch = 512;
        for (var start = 0; start < vocabulary; start += Batch)
        {
            var b = Math.Min(Batch, vocabulary - start);
            var ids = new long[b * 3];
            var mask = new long[b * 3];
            for (var i = 0; i < b; i++)
            {
                ids[(i * 3) + 0] = tokenizer.ClassificationTokenId;
                ids[(i * 3) + 1] = start + i;
                ids[(i * 3) + 2] = tokenizer.SeparatorTokenId;
                mask[(i * 3) + 0] = mask[(i * 3) + 1] = mask[(i * 3) + 2] = 1;
            }

            long[] shape = [b, 3];
            using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[b * 3], shape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [idsValue, maskValue, typesValue], [session.OutputNames[0]]);
            var hidden = outputs[0].GetTensorDataAsSpan<float>(); // [b, 3, 384]
            for (var i = 0; i < b; i++)
            {
                var row = rows.AsSpan((start + i) * MiniLm.Dimensions, MiniLm.Dimensions);
                for (var t = 0; t < 3; t++)
                {
                    var h = hidden.Slice(((i * 3) + t) * MiniLm.Dimensions, MiniLm.Dimensions);
                    for (var d = 0; d < MiniLm.Dimensions; d++)
                    {
                        row[d] += h[d] / 3f;
                    }
                }
            }

            if (start / Batch % 10 == 0)
            {
                log.WriteLine($"  {start + b}/{vocabulary}");
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(cachePath))!);
        // Atomic, so concurrent trainings (tests) never read half a cache.
        var temp = $"{cachePath}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        File.WriteAllBytes(temp, MemoryMarshal.AsBytes(rows.AsSpan()).ToArray());
        File.Move(temp, cachePath, overwrite: true);
        return rows;
    }

    private static float[] Pca(float[] raw, int vocabulary, int dimensions, TextWriter log)
    {
        var n = MiniLm.Dimensions;
        var x = Matrix<double>.Build.Dense(vocabulary, n, (i, j) => raw[(i * n) + j]);
        var mean = x.ColumnSums() / vocabulary;
        for (var i = 0; i < vocabulary; i++)
        {
            x.SetRow(i, x.Row(i) - mean);
        }

        var covariance = x.TransposeThisAndMultiply(x) / (vocabulary - 1);
        var evd = covariance.Evd(Symmetricity.Symmetric);
        // Eigenvalues ascend; take the last `dimensions` columns, largest first.
        var components = Matrix<double>.Build.Dense(n, dimensions, (i, j) => evd.EigenVectors[i, n - 1 - j]);
        var explained = Enumerable.Range(0, dimensions).Sum(j => evd.EigenValues[n - 1 - j].Real) / evd.EigenValues.Sum(e => e.Real);
        log.WriteLine($"token table: PCA 384 → {dimensions} keeps {explained:P1} of the variance");
        var projected = x * components;
        var result = new float[vocabulary * dimensions];
        for (var i = 0; i < vocabulary; i++)
        {
            for (var j = 0; j < dimensions; j++)
            {
                result[(i * dimensions) + j] = (float)projected[i, j];
            }
        }

        return result;
    }
}
