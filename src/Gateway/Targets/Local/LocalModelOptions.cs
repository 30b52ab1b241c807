using System.ComponentModel.DataAnnotations;

namespace Gateway.Targets.Local;

/// <summary>One in-process model, bound from <c>LocalModels:&lt;name&gt;</c>.</summary>
public sealed class LocalModelOptions
{
    public const string Section = "LocalModels";

    /// <summary>The GGUF file (any quantization llama.cpp reads).</summary>
    [Required]
    public string Path { get; set; } = "";

    /// <summary>Context window in tokens (default 4096; prompt and completion share it).</summary>
    [Range(64, 1_048_576)]
    public uint ContextSize { get; set; } = 4096;

    /// <summary>CPU threads for generation (default: llama.cpp's choice).</summary>
    [Range(1, 1024)]
    public int? Threads { get; set; }

    /// <summary>Layers offloaded to the GPU with a GPU backend (default 0: CPU only).</summary>
    [Range(0, 1024)]
    public int GpuLayers { get; set; }

    /// <summary>Requests generating at once on this model (default 1); each holds its own context.</summary>
    [Range(1, 256)]
    public int MaxConcurrent { get; set; } = 1;

    /// <summary>How long a request waits for a free slot before the route reports saturation (default 5 s).</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Completion tokens when the request sets no max_tokens (default 512).</summary>
    [Range(1, 1_048_576)]
    public int DefaultMaxTokens { get; set; } = 512;
}
