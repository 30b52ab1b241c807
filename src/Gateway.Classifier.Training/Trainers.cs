namespace Gateway.Classifier.Training;

/// <summary>Hyper-parameters, fixed before looking at any held-out data.</summary>
internal sealed record TrainingOptions
{
    public int Seed { get; init; } = 42;
    public int Hidden { get; init; } = 16;
    public int CategoryEpochs { get; init; } = 5;
    public float CategoryLearningRate { get; init; } = 0.02f;
    public float CategoryL2 { get; init; } = 1e-5f;
    public int NeedsStrongEpochs { get; init; } = 6;
    public float NeedsStrongLearningRate { get; init; } = 0.05f;

    /// <summary>Candidates for the needs_strong L2 strength, chosen by subject-grouped cross-validation on the training split.</summary>
    public IReadOnlyList<float> NeedsStrongL2Grid { get; init; } = [1e-3f, 1e-2f, 3e-2f, 1e-1f, 3e-1f];

    /// <summary>Weight of category-corpus chat and extraction prompts used as "does not need the strong model" examples.</summary>
    public float EasyPriorWeight { get; init; } = 0.5f;
}

/// <summary>
/// The category model: hashed features → embedding-bag (sum of rows) → ReLU hidden layer → softmax.
/// Trained with per-example AdaGrad, which suits sparse inputs: rare features keep large steps.
/// </summary>
internal sealed class CategoryMlp
{
    private const float Epsilon = 1e-8f;

    public CategoryMlp(int buckets, int hidden, int classes, Random random)
    {
        Buckets = buckets;
        Hidden = hidden;
        Classes = classes;
        W1 = new float[buckets * hidden];
        B1 = new float[hidden];
        W2 = new float[hidden * classes];
        B2 = new float[classes];
        var a1 = 0.1f;
        for (var i = 0; i < W1.Length; i++)
        {
            W1[i] = (float)(random.NextDouble() * 2 - 1) * a1;
        }

        var a2 = MathF.Sqrt(6f / (hidden + classes));
        for (var i = 0; i < W2.Length; i++)
        {
            W2[i] = (float)(random.NextDouble() * 2 - 1) * a2;
        }
    }

    public int Buckets { get; }
    public int Hidden { get; }
    public int Classes { get; }
    public float[] W1 { get; }
    public float[] B1 { get; }
    public float[] W2 { get; }
    public float[] B2 { get; }

    public static CategoryMlp Train(IReadOnlyList<SparseFeatures> x, IReadOnlyList<int> y, int classes, TrainingOptions options, TextWriter log,
        IReadOnlyList<SparseFeatures>? validationX = null, IReadOnlyList<int>? validationY = null)
    {
        var random = new Random(options.Seed);
        var model = new CategoryMlp(Gateway.Classification.PromptFeaturizer.Buckets, options.Hidden, classes, random);
        var g1 = new float[model.W1.Length];
        var gb1 = new float[model.B1.Length];
        var g2 = new float[model.W2.Length];
        var gb2 = new float[model.B2.Length];
        var pre = new float[model.Hidden];
        var h = new float[model.Hidden];
        var p = new float[classes];
        var dh = new float[model.Hidden];
        var order = Enumerable.Range(0, x.Count).ToArray();
        var lr = options.CategoryLearningRate;

        for (var epoch = 1; epoch <= options.CategoryEpochs; epoch++)
        {
            random.Shuffle(order);
            double loss = 0;
            var correct = 0;
            foreach (var e in order)
            {
                model.Forward(x[e], pre, h, p);
                loss -= Math.Log(Math.Max(p[y[e]], 1e-12f));
                correct += ArgMax(p) == y[e] ? 1 : 0;

                // Softmax + cross-entropy gradient: p - onehot(y).
                p[y[e]] -= 1f;
                Array.Clear(dh);
                for (var k = 0; k < model.Hidden; k++)
                {
                    var row = k * classes;
                    for (var c = 0; c < classes; c++)
                    {
                        dh[k] += model.W2[row + c] * p[c];
                        var grad = h[k] * p[c] + options.CategoryL2 * model.W2[row + c];
                        Step(model.W2, g2, row + c, grad, lr);
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

                var features = x[e];
                for (var j = 0; j < features.Indices.Length; j++)
                {
                    var row = (int)features.Indices[j] * model.Hidden;
                    var v = features.Values[j];
                    for (var k = 0; k < model.Hidden; k++)
                    {
                        var grad = v * dh[k] + options.CategoryL2 * model.W1[row + k];
                        Step(model.W1, g1, row + k, grad, lr);
                    }
                }
            }

            var validation = "";
            if (validationX is { Count: > 0 } && validationY is not null)
            {
                var right = validationX.Where((v, i) => ArgMax(model.Predict(v)) == validationY[i]).Count();
                validation = $", validation accuracy {(double)right / validationX.Count:P1}";
            }

            log.WriteLine($"  category epoch {epoch,2}: loss {loss / x.Count:F4}, train accuracy {(double)correct / x.Count:P1}{validation}");
        }

        return model;
    }

    private static void Step(float[] w, float[] g, int i, float grad, float lr)
    {
        g[i] += grad * grad;
        w[i] -= lr * grad / (MathF.Sqrt(g[i]) + Epsilon);
    }

    /// <summary>The same arithmetic as the exported graph: Gather → MatMul(values) → Add → Relu → MatMul → Add → Softmax.</summary>
    public void Forward(SparseFeatures features, float[] pre, float[] h, float[] p)
    {
        Array.Copy(B1, pre, Hidden);
        for (var j = 0; j < features.Indices.Length; j++)
        {
            var row = (int)features.Indices[j] * Hidden;
            var v = features.Values[j];
            for (var k = 0; k < Hidden; k++)
            {
                pre[k] += v * W1[row + k];
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
                p[c] += h[k] * W2[k * Classes + c];
            }
        }

        Softmax(p);
    }

    public float[] Predict(SparseFeatures features)
    {
        var p = new float[Classes];
        Forward(features, new float[Hidden], new float[Hidden], p);
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
/// The needs_strong model: logistic regression on the same hashed features plus the category
/// probabilities (so "a greeting" and "a proof" can carry different priors), trained with AdaGrad
/// and L2 on the features touched by each example.
/// </summary>
internal sealed class NeedsStrongLogistic
{
    private const float Epsilon = 1e-8f;

    public NeedsStrongLogistic(int buckets, int classes)
    {
        Ws = new float[buckets];
        Wc = new float[classes];
    }

    public float[] Ws { get; }
    public float[] Wc { get; }
    public float Bias { get; private set; }

    public sealed record Example(SparseFeatures Features, float[] CategoryScores, bool Label, float Weight);

    public static NeedsStrongLogistic Train(IReadOnlyList<Example> examples, float l2, TrainingOptions options)
    {
        var random = new Random(options.Seed);
        var model = new NeedsStrongLogistic(Gateway.Classification.PromptFeaturizer.Buckets, examples[0].CategoryScores.Length);
        var gs = new float[model.Ws.Length];
        var gc = new float[model.Wc.Length];
        var gb = 0f;
        var order = Enumerable.Range(0, examples.Count).ToArray();
        var lr = options.NeedsStrongLearningRate;
        for (var epoch = 0; epoch < options.NeedsStrongEpochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var i in order)
            {
                var example = examples[i];
                var err = (model.Predict(example.Features, example.CategoryScores) - (example.Label ? 1f : 0f)) * example.Weight;
                var f = example.Features;
                for (var j = 0; j < f.Indices.Length; j++)
                {
                    var k = (int)f.Indices[j];
                    var grad = err * f.Values[j] + l2 * model.Ws[k];
                    gs[k] += grad * grad;
                    model.Ws[k] -= lr * grad / (MathF.Sqrt(gs[k]) + Epsilon);
                }

                for (var c = 0; c < model.Wc.Length; c++)
                {
                    var grad = err * example.CategoryScores[c] + l2 * model.Wc[c];
                    gc[c] += grad * grad;
                    model.Wc[c] -= lr * grad / (MathF.Sqrt(gc[c]) + Epsilon);
                }

                gb += err * err;
                model.Bias -= lr * err / (MathF.Sqrt(gb) + Epsilon);
            }
        }

        return model;
    }

    public float Predict(SparseFeatures features, float[] categoryScores)
    {
        var z = Bias;
        for (var j = 0; j < features.Indices.Length; j++)
        {
            z += features.Values[j] * Ws[features.Indices[j]];
        }

        for (var c = 0; c < Wc.Length; c++)
        {
            z += categoryScores[c] * Wc[c];
        }

        return 1f / (1f + MathF.Exp(-z));
    }
}
