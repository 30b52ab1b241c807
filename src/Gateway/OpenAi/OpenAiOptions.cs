using System.ComponentModel.DataAnnotations;

namespace Gateway.OpenAi;

/// <summary>Settings of the OpenAI-compatible surface, bound from the <c>OpenAi</c> section.</summary>
public sealed class OpenAiOptions
{
    public const string Section = "OpenAi";

    /// <summary>Largest request body accepted, in bytes; larger bodies get 413. Default 16 MiB (room for base64 images).</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;
}
