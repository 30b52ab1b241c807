using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Classification;
using Google.Protobuf;

namespace Gateway.Classifier.Training;

/// <summary>
/// Writes the trained weights as an ONNX model of core operators only (opset 13), encoded with
/// Google.Protobuf's wire writer against the field numbers of onnx.proto. The graph is exactly
/// <see cref="TokenTable.Embed"/>, <see cref="CategoryMlp.Forward"/> and <see cref="NeedsStrongLogistic.Predict"/>:
/// <code>
/// indices[N] int64, values[1,N] float     hashed n-grams (PromptFeaturizer)
/// tokens[T] int64                          WordPiece ids (PromptTokens)
/// signals[1,S] float                       structural signals (PromptFeaturizer.Signals)
/// emb          = √D · normalize(Σ Cast(Gather(T16, tokens)))        the distilled MiniLM token table, fp16
/// scores       = Softmax(Relu(values · Cast(Gather(W16, indices)) + emb · Wd + b1) · W2 + b2)
/// needs_strong = Sigmoid(emb · Vd + signals · Vs + scores · Vc + bs)
/// </code>
/// The two big tables (token rows, n-gram rows W1) are stored as float16, half the bytes; the trainer
/// rounds them the same way (<see cref="CategoryMlp.RoundToHalf"/>), so its arithmetic is the graph's.
/// </summary>
internal static class OnnxExport
{
    private const long IrVersion = 8;
    private const long Opset = 13;
    private const int Float = 1;
    private const int Int64 = 7;
    private const int Float16 = 10;

    /// <summary>Writes the model atomically (temp file + rename, so a watching gateway never reads half a file) and returns its version.</summary>
    public static string Write(string path, TokenTable table, CategoryMlp mlp, NeedsStrongLogistic strong, IReadOnlyList<string> labels)
    {
        var graph = Graph(table, mlp, strong, labels.Count);
        // The version names the weights, so retraining with the same data and seed gives the same version.
        var version = "clf-" + Convert.ToHexStringLower(SHA256.HashData(graph.Span))[..12];
        var metadata = new Dictionary<string, string>
        {
            [ClassifierModel.LabelsKey] = JsonSerializer.Serialize(labels.ToArray(), ClassifierJsonContext.Default.StringArray),
            [ClassifierModel.VersionKey] = version,
            [ClassifierModel.FeaturizerKey] = PromptFeaturizer.Name,
            [ClassifierModel.BucketsKey] = PromptFeaturizer.Buckets.ToString(CultureInfo.InvariantCulture),
            [ClassifierModel.VocabularyKey] = MiniLm.VocabularyName,
            [ClassifierModel.SignalsKey] = PromptFeaturizer.SignalCount.ToString(CultureInfo.InvariantCulture),
        };

        var model = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteInt64(IrVersion);
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteString("Gateway.Classifier.Training");
            o.WriteTag(7, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(graph);
            o.WriteTag(8, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Message(op =>
            {
                op.WriteTag(1, WireFormat.WireType.LengthDelimited);
                op.WriteString("");
                op.WriteTag(2, WireFormat.WireType.Varint);
                op.WriteInt64(Opset);
            }));
            foreach (var (key, value) in metadata)
            {
                o.WriteTag(14, WireFormat.WireType.LengthDelimited);
                o.WriteBytes(Message(kv =>
                {
                    kv.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    kv.WriteString(key);
                    kv.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    kv.WriteString(value);
                }));
            }
        });

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, model.ToByteArray());
        File.Move(temp, path, overwrite: true);
        return version;
    }

    private static ByteString Graph(TokenTable table, CategoryMlp mlp, NeedsStrongLogistic strong, int classes) => Message(g =>
    {
        Node(g, "Gather", ["T16", ClassifierModel.TokensInput], ["token_rows16"], ("axis", 0));
        Node(g, "Cast", ["token_rows16"], ["token_rows"], ("to", Float));
        Node(g, "ReduceSum", ["token_rows", "axis0"], ["token_sum"], ("keepdims", 1));
        Node(g, "Mul", ["token_sum", "token_sum"], ["token_sq"]);
        Node(g, "ReduceSum", ["token_sq", "axis1"], ["token_sq_sum"], ("keepdims", 1));
        Node(g, "Sqrt", ["token_sq_sum"], ["token_norm_raw"]);
        Node(g, "Add", ["token_norm_raw", "epsilon"], ["token_norm"]);
        Node(g, "Div", ["token_sum", "token_norm"], ["token_unit"]);
        Node(g, "Mul", ["token_unit", "sqrt_d"], ["emb"]);

        Node(g, "Gather", ["W16", ClassifierModel.IndicesInput], ["embedded16"], ("axis", 0));
        Node(g, "Cast", ["embedded16"], ["embedded"], ("to", Float));
        Node(g, "MatMul", [ClassifierModel.ValuesInput, "embedded"], ["bag"]);
        Node(g, "MatMul", ["emb", "Wd"], ["dense_hidden"]);
        Node(g, "Add", ["bag", "dense_hidden"], ["hidden_sum"]);
        Node(g, "Add", ["hidden_sum", "b1"], ["hidden_pre"]);
        Node(g, "Relu", ["hidden_pre"], ["hidden"]);
        Node(g, "MatMul", ["hidden", "W2"], ["logits_raw"]);
        Node(g, "Add", ["logits_raw", "b2"], ["logits"]);
        Node(g, "Softmax", ["logits"], [ClassifierModel.ScoresOutput], ("axis", 1));

        Node(g, "MatMul", ["emb", "Vd"], ["strong_emb"]);
        Node(g, "MatMul", [ClassifierModel.SignalsInput, "Vs"], ["strong_signals"]);
        Node(g, "MatMul", [ClassifierModel.ScoresOutput, "Vc"], ["strong_category"]);
        Node(g, "Add", ["strong_emb", "strong_signals"], ["strong_a"]);
        Node(g, "Add", ["strong_a", "strong_category"], ["strong_b"]);
        Node(g, "Add", ["strong_b", "bs"], ["strong_logit"]);
        Node(g, "Sigmoid", ["strong_logit"], [ClassifierModel.NeedsStrongOutput]);

        g.WriteTag(2, WireFormat.WireType.LengthDelimited);
        g.WriteString("prompt_classifier");

        Initializer(g, "T16", [table.Vocabulary, table.Dimensions], Float16, MemoryMarshal.AsBytes(ToHalf(table.Rows).AsSpan()));
        Int64Initializer(g, "axis0", 0);
        Int64Initializer(g, "axis1", 1);
        Initializer(g, "epsilon", [1], [1e-6f]);
        Initializer(g, "sqrt_d", [1], [MathF.Sqrt(table.Dimensions)]);
        Initializer(g, "W16", [mlp.Buckets, mlp.Hidden], Float16, MemoryMarshal.AsBytes(ToHalf(mlp.W1).AsSpan()));
        Initializer(g, "Wd", [mlp.DenseDims, mlp.Hidden], mlp.Wd);
        Initializer(g, "b1", [mlp.Hidden], mlp.B1);
        Initializer(g, "W2", [mlp.Hidden, classes], mlp.W2);
        Initializer(g, "b2", [classes], mlp.B2);
        Initializer(g, "Vd", [strong.Vd.Length, 1], strong.Vd);
        Initializer(g, "Vs", [strong.Vs.Length, 1], strong.Vs);
        Initializer(g, "Vc", [classes, 1], strong.Vc);
        Initializer(g, "bs", [1], [strong.Bias]);

        ValueInfo(g, 11, ClassifierModel.IndicesInput, Int64, [null], ["n"]);
        ValueInfo(g, 11, ClassifierModel.ValuesInput, Float, [1, null], [null, "n"]);
        ValueInfo(g, 11, ClassifierModel.TokensInput, Int64, [null], ["t"]);
        ValueInfo(g, 11, ClassifierModel.SignalsInput, Float, [1, PromptFeaturizer.SignalCount], [null, null]);
        ValueInfo(g, 12, ClassifierModel.ScoresOutput, Float, [1, classes], [null, null]);
        ValueInfo(g, 12, ClassifierModel.NeedsStrongOutput, Float, [1, 1], [null, null]);
    });

    private static Half[] ToHalf(float[] values)
    {
        var half = new Half[values.Length];
        for (var i = 0; i < half.Length; i++)
        {
            half[i] = (Half)values[i];
        }

        return half;
    }

    private static void Node(CodedOutputStream g, string op, string[] inputs, string[] outputs, (string Name, long Value)? attribute = null)
    {
        g.WriteTag(1, WireFormat.WireType.LengthDelimited);
        g.WriteBytes(Message(n =>
        {
            foreach (var input in inputs)
            {
                n.WriteTag(1, WireFormat.WireType.LengthDelimited);
                n.WriteString(input);
            }

            foreach (var output in outputs)
            {
                n.WriteTag(2, WireFormat.WireType.LengthDelimited);
                n.WriteString(output);
            }

            n.WriteTag(3, WireFormat.WireType.LengthDelimited);
            n.WriteString(outputs[0] + "_" + op);
            n.WriteTag(4, WireFormat.WireType.LengthDelimited);
            n.WriteString(op);
            if (attribute is { } a)
            {
                n.WriteTag(5, WireFormat.WireType.LengthDelimited);
                n.WriteBytes(Message(at =>
                {
                    at.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    at.WriteString(a.Name);
                    at.WriteTag(3, WireFormat.WireType.Varint);
                    at.WriteInt64(a.Value);
                    at.WriteTag(20, WireFormat.WireType.Varint);
                    at.WriteInt32(2); // AttributeType.INT
                }));
            }
        }));
    }

    private static void Initializer(CodedOutputStream g, string name, long[] dims, float[] data) =>
        Initializer(g, name, dims, Float, MemoryMarshal.AsBytes(data.AsSpan()));

    private static void Initializer(CodedOutputStream g, string name, long[] dims, int elementType, ReadOnlySpan<byte> bytes)
    {
        var data = ByteString.CopyFrom(bytes);
        g.WriteTag(5, WireFormat.WireType.LengthDelimited);
        g.WriteBytes(Message(t =>
        {
            foreach (var dim in dims)
            {
                t.WriteTag(1, WireFormat.WireType.Varint);
                t.WriteInt64(dim);
            }

            t.WriteTag(2, WireFormat.WireType.Varint);
            t.WriteInt32(elementType);
            t.WriteTag(8, WireFormat.WireType.LengthDelimited);
            t.WriteString(name);
            // raw_data is little-endian; so is every machine .NET runs this CLI on.
            t.WriteTag(9, WireFormat.WireType.LengthDelimited);
            t.WriteBytes(data);
        }));
    }

    private static void Int64Initializer(CodedOutputStream g, string name, long value)
    {
        g.WriteTag(5, WireFormat.WireType.LengthDelimited);
        g.WriteBytes(Message(t =>
        {
            t.WriteTag(1, WireFormat.WireType.Varint);
            t.WriteInt64(1);
            t.WriteTag(2, WireFormat.WireType.Varint);
            t.WriteInt32(Int64);
            t.WriteTag(8, WireFormat.WireType.LengthDelimited);
            t.WriteString(name);
            t.WriteTag(9, WireFormat.WireType.LengthDelimited);
            t.WriteBytes(ByteString.CopyFrom(BitConverter.GetBytes(value)));
        }));
    }

    private static void ValueInfo(CodedOutputStream g, int field, string name, int elementType, long?[] dims, string?[] symbols)
    {
        g.WriteTag(field, WireFormat.WireType.LengthDelimited);
        g.WriteBytes(Message(v =>
        {
            v.WriteTag(1, WireFormat.WireType.LengthDelimited);
            v.WriteString(name);
            v.WriteTag(2, WireFormat.WireType.LengthDelimited);
            v.WriteBytes(Message(type =>
            {
                type.WriteTag(1, WireFormat.WireType.LengthDelimited);
                type.WriteBytes(Message(tensor =>
                {
                    tensor.WriteTag(1, WireFormat.WireType.Varint);
                    tensor.WriteInt32(elementType);
                    tensor.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    tensor.WriteBytes(Message(shape =>
                    {
                        for (var i = 0; i < dims.Length; i++)
                        {
                            shape.WriteTag(1, WireFormat.WireType.LengthDelimited);
                            shape.WriteBytes(Message(d =>
                            {
                                if (dims[i] is { } value)
                                {
                                    d.WriteTag(1, WireFormat.WireType.Varint);
                                    d.WriteInt64(value);
                                }
                                else
                                {
                                    d.WriteTag(2, WireFormat.WireType.LengthDelimited);
                                    d.WriteString(symbols[i] ?? "n");
                                }
                            }));
                        }
                    }));
                }));
            }));
        }));
    }

    private static ByteString Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return ByteString.CopyFrom(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
