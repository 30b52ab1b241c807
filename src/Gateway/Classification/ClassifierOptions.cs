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
}
