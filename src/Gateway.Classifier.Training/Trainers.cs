using Gateway.Classification;

namespace Gateway.Classifier.Training;

/// <summary>Hyper-parameters, fixed before looking at any held-out data.</summary>
internal sealed record TrainingOptions
{
    public int Seed { get; init; } = 42;
    public int Hidden { get; init; } = 32;
    public int CategoryEpochs { get; init; } = 4;
    public float CategoryLearningRate { get; init; } = 0.02f;
    public float CategoryL2 { get; init; } = 1e-5f;
    public int NeedsStrongEpochs { get; init; } = 6;
    public float NeedsStrongLearningRate { get; init; } = 0.05f;

    /// <summary>Candidates for the needs_strong L2 strength, chosen by source-grouped cross-validation on the training data.</summary>
    public IReadOnlyList<float> NeedsStrongL2Grid { get; init; } = [1e-3f, 1e-2f, 3e-2f, 1e-1f];

    /// <summary>Weight of category-corpus chat and extraction prompts used as "does not need the strong model" examples.</summary>
    public float EasyPriorWeight { get; init; } = 0.5f;

    /// <summary>
    /// needs_strong: one intercept per preference source/subject while training (see <see cref="NeedsStrongLogistic.Example"/>).
    /// Off by default: measured in docs/classifier.md, it moves the per-source APGRs by less than their noise.
    /// </summary>
    public bool GroupIntercepts { get; init; }

    /// <summary>
    /// When above 0, the needs_strong evaluation also scores a similarity-weighted neighbour ranker (RouteLLM's SW
    /// ranking) with this many neighbours, held out the same way, and prints it beside the model.
    /// </summary>
    public int NeighbourStudy { get; init; }

    /// <summary>
    /// Share of training examples (per epoch) seen without their hashed n-grams, so the dense embedding path must
    /// classify on its own too (modality dropout): n-grams memorise a source's surface form.
    /// </summary>
    public float NgramDropout { get; init; }

    /// <summary>Within a label, each source counts by its size to this power (0.5: square root; 0: every source equal).</summary>
    public double SourcePower { get; init; } = 0.5;

    /// <summary>Dimensions the MiniLM token table is reduced to by PCA.</summary>
    public int TableDimensions { get; init; } = 128;

    /// <summary>Which inputs the category head reads (the design comparison switches them).</summary>
    public FeatureSet Features { get; init; } = FeatureSet.TokenTable | FeatureSet.Ngrams;
}

[Flags]
internal enum FeatureSet
{
    None = 0,
    Ngrams = 1,
    TokenTable = 2,
    SentenceEmbedding = 4,
}

/// <summary>
/// A featurized prompt, as the gateway computes it: hashed n-grams (sparse), a dense prompt
/// embedding (the token table's, or MiniLM's in the design comparison; empty when unused), and the
/// dense structural signals.
/// </summary>
internal sealed record PromptFeatures(SparseFeatures Sparse, float[] Dense, float[] Signals);

/// <summary>
/// The category model: hashed features → embedding bag (sum of rows) plus the dense embedding times
/// a matrix → ReLU hidden layer → softmax. Per-example AdaGrad with example weights, which suits
/// sparse inputs: rare features keep large steps.
/// </summary>
internal sealed class CategoryMlp
{
    private const float Epsilon = 1e-8f;
    private static readonly SparseFeatures NoNgrams = new([], []);

    public CategoryMlp(int buckets, int dense, int hidden, int classes, Random random)
    {
        Buckets = buckets;
        DenseDims = dense;
        Hidden = hidden;
        Classes = classes;
        W1 = new float[buckets * hidden];
        Wd = new float[dense * hidden];
        B1 = new float[hidden];
        W2 = new float[hidden * classes];
        B2 = new float[classes];
        Fill(W1, 0.1f, random);
        Fill(Wd, MathF.Sqrt(6f / (Math.Max(dense, 1) + hidden)), random);
        Fill(W2, MathF.Sqrt(6f / (hidden + classes)), random);
    }

    public int Buckets { get; }
    public int DenseDims { get; }
    public int Hidden { get; }
    public int Classes { get; }
    public float[] W1 { get; }
    public float[] Wd { get; }
    public float[] B1 { get; }
    public float[] W2 { get; }
    public float[] B2 { get; }

    private static void Fill(float[] w, float scale, Random random)
    {
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }
    }

    public static CategoryMlp Train(IReadOnlyList<PromptFeatures> x, IReadOnlyList<int> y, IReadOnlyList<float>? weights, int classes,
        TrainingOptions options, TextWriter log)
    {
        var random = new Random(options.Seed);
        var model = new CategoryMlp(PromptFeaturizer.Buckets, x[0].Dense.Length, options.Hidden, classes, random);
        var g1 = new float[model.W1.Length];
        var gd = new float[model.Wd.Length];
        var gb1 = new float[model.B1.Length];
        var g2 = new float[model.W2.Length];
        var gb2 = new float[model.B2.Length];
        var pre = new float[model.Hidden];
        var h = new float[model.Hidden];
        var p = new float[classes];
        var dh = new float[model.Hidden];
        var order = Enumerable.Range(0, x.Count).ToArray();
        var lr = options.CategoryLearningRate;
        var l2 = options.CategoryL2;

        for (var epoch = 1; epoch <= options.CategoryEpochs; epoch++)
        {
            random.Shuffle(order);
            double loss = 0;
            var correct = 0;
            foreach (var e in order)
            {
                var w = weights?[e] ?? 1f;
                var example = options.NgramDropout > 0 && random.NextDouble() < options.NgramDropout ? x[e] with { Sparse = NoNgrams } : x[e];
                model.Forward(example, pre, h, p);
                loss -= w * Math.Log(Math.Max(p[y[e]], 1e-12f));
                correct += ArgMax(p) == y[e] ? 1 : 0;

                // Softmax + cross-entropy gradient: p - onehot(y), times the example's weight.
                p[y[e]] -= 1f;
                for (var c = 0; c < classes; c++)
                {
                    p[c] *= w;
                }

                Array.Clear(dh);
                for (var k = 0; k < model.Hidden; k++)
                {
                    var row = k * classes;
                    for (var c = 0; c < classes; c++)
                    {
                        dh[k] += model.W2[row + c] * p[c];
                        Step(model.W2, g2, row + c, (h[k] * p[c]) + (l2 * model.W2[row + c]), lr);
                    }

                    dh[k] = pre[k] > 0 ? dh[k] : 0;
                }

                for (var c = 0; c < classes; c++)
                {
                    Step(model.B2, gb2, c, p[c], lr);
                }

                for (var k = 0; k < model.Hidden; k++)
                {
                    Step(model.B1, gb1, k, dh[k], lr);
                }

                var dense = example.Dense;
                for (var j = 0; j < dense.Length; j++)
                {
                    var row = j * model.Hidden;
                    var v = dense[j];
                    for (var k = 0; k < model.Hidden; k++)
                    {
                        Step(model.Wd, gd, row + k, (v * dh[k]) + (l2 * model.Wd[row + k]), lr);
                    }
                }

                var features = example.Sparse;
                for (var j = 0; j < features.Indices.Length; j++)
                {
                    var row = (int)features.Indices[j] * model.Hidden;
                    var v = features.Values[j];
                    for (var k = 0; k < model.Hidden; k++)
                    {
                        Step(model.W1, g1, row + k, (v * dh[k]) + (l2 * model.W1[row + k]), lr);
                    }
                }
            }

            log.WriteLine($"  category epoch {epoch,2}: loss {loss / x.Count:F4}, train accuracy {(double)correct / x.Count:P1}");
        }

        model.RoundToHalf();
        return model;
    }

    private static void Step(float[] w, float[] g, int i, float grad, float lr)
    {
        g[i] += grad * grad;
        w[i] -= lr * grad / (MathF.Sqrt(g[i]) + Epsilon);
    }

    /// <summary>Rounds the n-gram table to the float16 values the exported graph stores (done once, after training).</summary>
    public void RoundToHalf()
    {
        for (var i = 0; i < W1.Length; i++)
        {
            W1[i] = (float)(Half)W1[i];
        }
    }

    /// <summary>The exported graph's arithmetic: values · Gather(W1) + dense · Wd + b1 → Relu → · W2 + b2 → Softmax.</summary>
    public void Forward(PromptFeatures x, float[] pre, float[] h, float[] p)
    {
        Array.Copy(B1, pre, Hidden);
        var features = x.Sparse;
        for (var j = 0; j < features.Indices.Length; j++)
        {
            var row = (int)features.Indices[j] * Hidden;
            var v = features.Values[j];
            for (var k = 0; k < Hidden; k++)
            {
                pre[k] += v * W1[row + k];
            }
        }

        for (var j = 0; j < x.Dense.Length; j++)
        {
            var row = j * Hidden;
            var v = x.Dense[j];
            for (var k = 0; k < Hidden; k++)
            {
                pre[k] += v * Wd[row + k];
            }
        }

        for (var k = 0; k < Hidden; k++)
        {
            h[k] = Math.Max(0, pre[k]);
        }

        Array.Copy(B2, p, Classes);
        for (var k = 0; k < Hidden; k++)
        {
            for (var c = 0; c < Classes; c++)
            {
                p[c] += h[k] * W2[(k * Classes) + c];
            }
        }

        Softmax(p);
    }

    public float[] Predict(PromptFeatures x)
    {
        var p = new float[Classes];
        Forward(x, new float[Hidden], new float[Hidden], p);
        return p;
    }

    private static void Softmax(float[] z)
    {
        var max = z.Max();
        var sum = 0f;
        for (var i = 0; i < z.Length; i++)
        {
            z[i] = MathF.Exp(z[i] - max);
            sum += z[i];
        }

        for (var i = 0; i < z.Length; i++)
        {
            z[i] /= sum;
        }
    }

    public static int ArgMax(float[] p)
    {
        var best = 0;
        for (var i = 1; i < p.Length; i++)
        {
            best = p[i] > p[best] ? i : best;
        }

        return best;
    }
}

/// <summary>
/// The needs_strong model: logistic regression on the prompt embedding, the structural signals
/// (length, turns, code, digits, script) and the category probabilities, with AdaGrad and L2.
/// Hashed n-grams are left out on purpose: they let the model memorise individual questions, which
/// scores well on its training data and does not carry to unseen subjects.
/// </summary>
internal sealed class NeedsStrongLogistic
{
    private const float Epsilon = 1e-8f;

    public NeedsStrongLogistic(int dense, int signals, int classes)
    {
        Vd = new float[dense];
        Vs = new float[signals];
        Vc = new float[classes];
    }

    public float[] Vd { get; }
    public float[] Vs { get; }
    public float[] Vc { get; }
    public float Bias { get; private set; }

    /// <param name="Group">
    /// The preference source (and subject) the example comes from, or -1 for examples that belong to none. Each group gets
    /// its own intercept while training, so the weights learn what ranks prompts <em>within</em> a source (which is all a
    /// router can use on traffic it has not seen) rather than which benchmark is hard; the shipped intercept is their
    /// example-weighted mean. Group -1 examples use that mean.
    /// </param>
    public sealed record Example(PromptFeatures Features, float[] CategoryScores, bool Label, float Weight, int Group = -1);

    public static NeedsStrongLogistic Train(IReadOnlyList<Example> examples, float l2, TrainingOptions options)
    {
        var random = new Random(options.Seed);
        var first = examples[0];
        var model = new NeedsStrongLogistic(first.Features.Dense.Length, first.Features.Signals.Length, first.CategoryScores.Length);
        var gd = new float[model.Vd.Length];
        var gs = new float[model.Vs.Length];
        var gc = new float[model.Vc.Length];
        var groups = options.GroupIntercepts ? Math.Max(1, examples.Max(e => e.Group) + 1) : 1;
        var share = new float[groups];
        foreach (var e in examples)
        {
            if (e.Group >= 0 && options.GroupIntercepts)
            {
                share[e.Group] += e.Weight;
            }
        }

        var total = share.Sum();
        for (var g = 0; g < groups; g++)
        {
            share[g] = total > 0 ? share[g] / total : 1f / groups;
        }

        var bias = new float[groups];
        var gb = new float[groups];
        var order = Enumerable.Range(0, examples.Count).ToArray();
        var lr = options.NeedsStrongLearningRate;
        for (var epoch = 0; epoch < options.NeedsStrongEpochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var i in order)
            {
                var example = examples[i];
                var own = options.GroupIntercepts && example.Group >= 0;
                var b = own ? bias[example.Group] : Dot(share, bias);
                var err = (Sigmoid(b + model.Linear(example.Features, example.CategoryScores)) - (example.Label ? 1f : 0f)) * example.Weight;
                Update(model.Vd, gd, example.Features.Dense, err, l2, lr);
                Update(model.Vs, gs, example.Features.Signals, err, l2, lr);
                Update(model.Vc, gc, example.CategoryScores, err, l2, lr);
                for (var g = 0; g < groups; g++)
                {
                    var grad = own ? (g == example.Group ? err : 0f) : err * share[g];
                    gb[g] += grad * grad;
                    bias[g] -= lr * grad / (MathF.Sqrt(gb[g]) + Epsilon);
                }
            }
        }

        model.Bias = Dot(share, bias);
        return model;
    }

    private static void Update(float[] w, float[] g, float[] x, float err, float l2, float lr)
    {
        for (var j = 0; j < w.Length; j++)
        {
            var grad = (err * x[j]) + (l2 * w[j]);
            g[j] += grad * grad;
            w[j] -= lr * grad / (MathF.Sqrt(g[j]) + Epsilon);
        }
    }

    public float Predict(PromptFeatures features, float[] categoryScores) => Sigmoid(Bias + Linear(features, categoryScores));

    private float Linear(PromptFeatures features, float[] categoryScores) =>
        Dot(Vd, features.Dense) + Dot(Vs, features.Signals) + Dot(Vc, categoryScores);

    private static float Sigmoid(float z) => 1f / (1f + MathF.Exp(-z));

    private static float Dot(float[] w, float[] x)
    {
        var z = 0f;
        for (var j = 0; j < w.Length; j++)
        {
            z += w[j] * x[j];
        }

        return z;
    }
}
