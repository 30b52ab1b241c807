using System.Text;

namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>
/// Writes a tiny llama-architecture GGUF (v3) model for tests: 2 layers, width 64, 4 heads, an
/// SPM vocabulary of the control tokens, all 256 byte tokens and a few words, F32 weights drawn
/// from a seeded generator. About 0.5 MB; llama.cpp loads it in milliseconds and generates noise,
/// which is all the local route's tests need (shapes, token counts, limits, stop, cancellation).
/// </summary>
public static class TinyGguf
{
    public const int Embedding = 64;
    public const int Layers = 2;
    public const int Heads = 4;
    public const int FeedForward = 128;
    public const int ContextLength = 512;

    private const uint Version = 3;
    private const int Alignment = 32;

    private enum ValueType : uint
    {
        UInt32 = 4,
        Int32 = 5,
        Float32 = 6,
        String = 8,
        Array = 9,
    }

    public static string Write(string path, int seed = 1, string? chatTemplate = null)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 }; // unknown, control, control
        for (var b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6); // byte
        }

        foreach (var word in new[] { "▁", "▁the", "▁a", "▁and", "▁to", "▁of", "▁is", "▁in", "▁it", "▁hello", "▁world", "e", "t", "a", "o", "n", "s", "r" })
        {
            tokens.Add(word);
            types.Add(1); // normal
        }

        var vocab = tokens.Count;
        var random = new Random(seed);
        float[] Weights(int count, float scale) => Uniform(random, count, scale);

        static float[] Ones(int count) => Enumerable.Repeat(1f, count).ToArray();

        // ggml shapes list the innermost dimension first: a [in, out] matrix maps in → out.
        var tensors = new List<(string Name, long[] Shape, float[] Data)>
        {
            ("token_embd.weight", [Embedding, vocab], Weights(Embedding * vocab, 0.5f)),
        };
        for (var layer = 0; layer < Layers; layer++)
        {
            var p = $"blk.{layer}.";
            tensors.Add((p + "attn_norm.weight", [Embedding], Ones(Embedding)));
            tensors.Add((p + "attn_q.weight", [Embedding, Embedding], Weights(Embedding * Embedding, 0.1f)));
            tensors.Add((p + "attn_k.weight", [Embedding, Embedding], Weights(Embedding * Embedding, 0.1f)));
            tensors.Add((p + "attn_v.weight", [Embedding, Embedding], Weights(Embedding * Embedding, 0.1f)));
            tensors.Add((p + "attn_output.weight", [Embedding, Embedding], Weights(Embedding * Embedding, 0.1f)));
            tensors.Add((p + "ffn_norm.weight", [Embedding], Ones(Embedding)));
            tensors.Add((p + "ffn_gate.weight", [Embedding, FeedForward], Weights(Embedding * FeedForward, 0.1f)));
            tensors.Add((p + "ffn_up.weight", [Embedding, FeedForward], Weights(Embedding * FeedForward, 0.1f)));
            tensors.Add((p + "ffn_down.weight", [FeedForward, Embedding], Weights(FeedForward * Embedding, 0.1f)));
        }

        tensors.Add(("output_norm.weight", [Embedding], Ones(Embedding)));
        tensors.Add(("output.weight", [Embedding, vocab], Weights(Embedding * vocab, 0.5f)));

        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write((ulong)tensors.Count);

        var metadata = new List<Action>
        {
            () => Kv(w, "general.architecture", "llama"),
            () => Kv(w, "general.name", "tiny-test-llama"),
            () => Kv(w, "general.alignment", (uint)Alignment),
            () => Kv(w, "llama.context_length", (uint)ContextLength),
            () => Kv(w, "llama.embedding_length", (uint)Embedding),
            () => Kv(w, "llama.block_count", (uint)Layers),
            () => Kv(w, "llama.feed_forward_length", (uint)FeedForward),
            () => Kv(w, "llama.attention.head_count", (uint)Heads),
            () => Kv(w, "llama.attention.head_count_kv", (uint)Heads),
            () => Kv(w, "llama.rope.dimension_count", (uint)(Embedding / Heads)),
            () => Kv(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f),
            () => Kv(w, "tokenizer.ggml.model", "llama"),
            () => KvArray(w, "tokenizer.ggml.tokens", tokens),
            () => KvArray(w, "tokenizer.ggml.scores", tokens.Select((_, i) => -(float)i).ToList()),
            () => KvArray(w, "tokenizer.ggml.token_type", types),
            () => Kv(w, "tokenizer.ggml.unknown_token_id", 0u),
            () => Kv(w, "tokenizer.ggml.bos_token_id", 1u),
            () => Kv(w, "tokenizer.ggml.eos_token_id", 2u),
        };
        if (chatTemplate is not null)
        {
            metadata.Add(() => Kv(w, "tokenizer.chat_template", chatTemplate));
        }

        w.Write((ulong)metadata.Count);
        foreach (var write in metadata)
        {
            write();
        }

        WriteTensors(w, tensors);
        return path;
    }

    /// <summary>
    /// Writes a LoRA adapter for <see cref="Write"/>'s model: <c>general.type=adapter</c>,
    /// <c>adapter.type=lora</c>, and <c>.lora_a</c> [n_in, r] / <c>.lora_b</c> [r, n_out] pairs on the
    /// attention queries and the output projection, strong enough to change greedy output.
    /// </summary>
    public static string WriteLora(string path, int seed, int rank = 4, float alpha = 8f, string architecture = "llama")
    {
        var random = new Random(seed);
        float[] Weights(int count, float scale) => Uniform(random, count, scale);
        var vocab = 3 + 256 + 18;
        var tensors = new List<(string Name, long[] Shape, float[] Data)>();
        for (var layer = 0; layer < Layers; layer++)
        {
            tensors.Add(($"blk.{layer}.attn_q.weight.lora_a", [Embedding, rank], Weights(Embedding * rank, 0.5f)));
            tensors.Add(($"blk.{layer}.attn_q.weight.lora_b", [rank, Embedding], Weights(rank * Embedding, 0.5f)));
        }

        tensors.Add(("output.weight.lora_a", [Embedding, rank], Weights(Embedding * rank, 1f)));
        tensors.Add(("output.weight.lora_b", [rank, vocab], Weights(rank * vocab, 1f)));

        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write((ulong)tensors.Count);
        var metadata = new List<Action>
        {
            () => Kv(w, "general.architecture", architecture),
            () => Kv(w, "general.type", "adapter"),
            () => Kv(w, "general.alignment", (uint)Alignment),
            () => Kv(w, "adapter.type", "lora"),
            () => Kv(w, "adapter.lora.alpha", alpha),
        };
        w.Write((ulong)metadata.Count);
        metadata.ForEach(write => write());
        WriteTensors(w, tensors);
        return path;
    }

    /// <summary>Weights drawn uniformly from [-scale, scale) by a seeded generator: the same seed, the same file.</summary>
    private static float[] Uniform(Random random, int count, float scale)
    {
        var data = new float[count];
        for (var i = 0; i < count; i++)
        {
            data[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return data;
    }

    private static void WriteTensors(BinaryWriter w, List<(string Name, long[] Shape, float[] Data)> tensors)
    {
        ulong offset = 0;
        foreach (var (name, shape, data) in tensors)
        {
            String(w, name);
            w.Write((uint)shape.Length);
            foreach (var dim in shape)
            {
                w.Write((ulong)dim);
            }

            w.Write(0u); // GGML_TYPE_F32
            w.Write(offset);
            offset += Align((ulong)data.Length * 4);
        }

        Pad(w);
        foreach (var (_, _, data) in tensors)
        {
            foreach (var value in data)
            {
                w.Write(value);
            }

            Pad(w);
        }
    }

    private static ulong Align(ulong size) => (size + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        w.Flush();
        while (w.BaseStream.Position % Alignment != 0)
        {
            w.Write((byte)0);
        }
    }

    private static void String(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void Kv(BinaryWriter w, string key, string value)
    {
        String(w, key);
        w.Write((uint)ValueType.String);
        String(w, value);
    }

    private static void Kv(BinaryWriter w, string key, uint value)
    {
        String(w, key);
        w.Write((uint)ValueType.UInt32);
        w.Write(value);
    }

    private static void Kv(BinaryWriter w, string key, float value)
    {
        String(w, key);
        w.Write((uint)ValueType.Float32);
        w.Write(value);
    }

    private static void KvArray(BinaryWriter w, string key, List<string> values)
    {
        String(w, key);
        w.Write((uint)ValueType.Array);
        w.Write((uint)ValueType.String);
        w.Write((ulong)values.Count);
        values.ForEach(v => String(w, v));
    }

    private static void KvArray(BinaryWriter w, string key, List<float> values)
    {
        String(w, key);
        w.Write((uint)ValueType.Array);
        w.Write((uint)ValueType.Float32);
        w.Write((ulong)values.Count);
        values.ForEach(w.Write);
    }

    private static void KvArray(BinaryWriter w, string key, List<int> values)
    {
        String(w, key);
        w.Write((uint)ValueType.Array);
        w.Write((uint)ValueType.Int32);
        w.Write((ulong)values.Count);
        values.ForEach(w.Write);
    }
}
