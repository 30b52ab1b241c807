using System.ComponentModel.DataAnnotations;

namespace Gateway.Retrieval;

/// <summary>How local routes retrieve, bound from the <c>Retrieval</c> section.</summary>
public sealed class RetrievalOptions
{
    public const string Section = "Retrieval";

    /// <summary>Passages put into the prompt at most (default 3).</summary>
    [Range(1, 50)]
    public int TopK { get; set; } = 3;

    /// <summary>Lowest cosine similarity for a passage to be used (default 0.3).</summary>
    [Range(-1.0, 1.0)]
    public float MinScore { get; set; } = 0.3f;
}
