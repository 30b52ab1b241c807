using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Classification;
using Google.Protobuf;

namespace Gateway.Classifier.Training;

/// <summary>
/// Writes the trained weights as an ONNX model of core operators only (Gather, MatMul, Slice, Add,
/// Relu, Softmax, Sigmoid; opset 13), encoded with Google.Protobuf's wire writer against the field
/// numbers of onnx.proto. The graph is exactly <see cref="CategoryMlp.Forward"/> and
/// <see cref="NeedsStrongLogistic.Predict"/>:
/// <code>
/// indices[N] int64, values[1,N] float
/// scores       = Softmax(Relu(values · Gather(W1, indices) + b1) · W2 + b2)
/// needs_strong = Sigmoid(values · Gather(Ws, indices) + scores · Wc + bs)
/// </code>
/// W1 and Ws are stored side by side as one table E = [W1 | Ws] of shape [buckets, hidden + 1], so
/// each feature costs one gathered row (the table is too big for the cache; rows are the cost),
/// and the product is sliced into the hidden pre-activation and the needs_strong text term.
/// </summary>
internal static class OnnxExport
{
    private const long IrVersion = 8;
    private const long Opset = 13;
    private const int Float = 1;
    private const int Int64 = 7;

    /// <summary>Writes the model atomically (temp file + rename, so a watching gateway never reads half a file) and returns its version.</summary>
    public static string Write(string path, CategoryMlp mlp, NeedsStrongLogistic strong, IReadOnlyList<string> labels)
    {
        var graph = Graph(mlp, strong, labels.Count);
        // The version names the weights, so retraining with the same data and seed gives the same version.
        var version = "clf-" + Convert.ToHexStringLower(SHA256.HashData(graph.Span))[..12];
        var metadata = new Dictionary<string, string>
        {
            [ClassifierModel.LabelsKey] = JsonSerializer.Serialize(labels.ToArray(), ClassifierJsonContext.Default.StringArray),
            [ClassifierModel.VersionKey] = version,
            [ClassifierModel.FeaturizerKey] = PromptFeaturizer.Name,
            [ClassifierModel.BucketsKey] = PromptFeaturizer.Buckets.ToString(CultureInfo.InvariantCulture),
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

    private static ByteString Graph(CategoryMlp mlp, NeedsStrongLogistic strong, int classes) => Message(g =>
    {
        Node(g, "Gather", ["E", "indices"], ["embedded"], ("axis", 0));
        Node(g, "MatMul", ["values", "embedded"], ["bag"]);
        Node(g, "Slice", ["bag", "hidden_start", "hidden_end", "axis1"], ["hidden_sum"]);
        Node(g, "Slice", ["bag", "hidden_end", "strong_end", "axis1"], ["strong_text"]);
        Node(g, "Add", ["hidden_sum", "b1"], ["hidden_pre"]);
        Node(g, "Relu", ["hidden_pre"], ["hidden"]);
        Node(g, "MatMul", ["hidden", "W2"], ["logits_raw"]);
        Node(g, "Add", ["logits_raw", "b2"], ["logits"]);
        Node(g, "Softmax", ["logits"], [ClassifierModel.ScoresOutput], ("axis", 1));
        Node(g, "MatMul", [ClassifierModel.ScoresOutput, "Wc"], ["strong_category"]);
        Node(g, "Add", ["strong_text", "strong_category"], ["strong_sum"]);
        Node(g, "Add", ["strong_sum", "bs"], ["strong_logit"]);
        Node(g, "Sigmoid", ["strong_logit"], [ClassifierModel.NeedsStrongOutput]);

        g.WriteTag(2, WireFormat.WireType.LengthDelimited);
        g.WriteString("prompt_classifier");

        var width = mlp.Hidden + 1;
        var table = new float[mlp.Buckets * width];
        for (var row = 0; row < mlp.Buckets; row++)
        {
            Array.Copy(mlp.W1, row * mlp.Hidden, table, row * width, mlp.Hidden);
            table[(row * width) + mlp.Hidden] = strong.Ws[row];
        }

        Initializer(g, "E", [mlp.Buckets, width], table);
        Int64Initializer(g, "hidden_start", 0);
        Int64Initializer(g, "hidden_end", mlp.Hidden);
        Int64Initializer(g, "strong_end", width);
        Int64Initializer(g, "axis1", 1);
        Initializer(g, "b1", [mlp.Hidden], mlp.B1);
        Initializer(g, "W2", [mlp.Hidden, classes], mlp.W2);
        Initializer(g, "b2", [classes], mlp.B2);
        Initializer(g, "Wc", [classes, 1], strong.Wc);
        Initializer(g, "bs", [1], [strong.Bias]);

        ValueInfo(g, 11, ClassifierModel.IndicesInput, Int64, [null], ["n"]);
        ValueInfo(g, 11, ClassifierModel.ValuesInput, Float, [1, null], [null, "n"]);
        ValueInfo(g, 12, ClassifierModel.ScoresOutput, Float, [1, classes], [null, null]);
        ValueInfo(g, 12, ClassifierModel.NeedsStrongOutput, Float, [1, 1], [null, null]);
    });

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

    private static void Initializer(CodedOutputStream g, string name, long[] dims, float[] data)
    {
        g.WriteTag(5, WireFormat.WireType.LengthDelimited);
        g.WriteBytes(Message(t =>
        {
            foreach (var dim in dims)
            {
                t.WriteTag(1, WireFormat.WireType.Varint);
                t.WriteInt64(dim);
            }

            t.WriteTag(2, WireFormat.WireType.Varint);
            t.WriteInt32(Float);
            t.WriteTag(8, WireFormat.WireType.LengthDelimited);
            t.WriteString(name);
            // raw_data is little-endian; so is every machine .NET runs this CLI on.
            t.WriteTag(9, WireFormat.WireType.LengthDelimited);
            t.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())));
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
