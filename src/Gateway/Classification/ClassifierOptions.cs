using System.ComponentModel.DataAnnotations;

namespace Gateway.Classification;

/// <summary>The prompt classifier's settings, bound from the <c>Classifier</c> section.</summary>
public sealed class ClassifierOptions
{
    public const string Section = "Classifier";

    /// <summary>
    /// The ONNX model written by <c>Gateway.Classifier.Training</c>. Default: the bundled
    /// <c>models/classifier/classifier.onnx</c>, resolved like <c>Policies:Path</c>.
    /// </summary>
    [Required]
    public string ModelPath { get; set; } = "models/classifier/classifier.onnx";

    /// <summary>Swap in a retrained model when the file changes (default true). A model that fails to load is ignored and the current one kept.</summary>
    public bool ReloadOnChange { get; set; } = true;

    /// <summary>
    /// Classify every generative request (default true). False: requests are routed without a category or
    /// <c>needs_strong</c> (rules on them never match, the objective scores without them, the ledger's category is
    /// empty); <c>/admin/classify</c> still works. For deployments that route by model and rules alone, and for
    /// measuring the classifier's share of the hot path (<c>bench/http/run.sh</c>, arm <c>noclf</c>).
    /// </summary>
    public bool OnRequestPath { get; set; } = true;
}
