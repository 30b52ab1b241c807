using System.Text;

namespace Gateway.Targets.Local;

/// <summary>
/// Reads the scalar metadata of a GGUF file (strings and numbers; arrays are skipped) without
/// loading its tensors: enough to check what a file is (a model or an adapter) and its architecture.
/// </summary>
internal static class GgufMetadata
{
    /// <exception cref="InvalidDataException">Not a GGUF file, or a truncated one.</exception>
    public static IReadOnlyDictionary<string, object> Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (!reader.ReadBytes(4).AsSpan().SequenceEqual("GGUF"u8))
            {
                throw new InvalidDataException("not a GGUF file (bad magic)");
            }

            var version = reader.ReadUInt32();
            if (version is < 2 or > 3)
            {
                throw new InvalidDataException($"unsupported GGUF version {version}");
            }

            reader.ReadUInt64(); // tensors
            var count = reader.ReadUInt64();
            var values = new Dictionary<string, object>(StringComparer.Ordinal);
            for (ulong i = 0; i < count; i++)
            {
                var key = String(reader);
                var value = Value(reader, reader.ReadUInt32());
                if (value is not null)
                {
                    values[key] = value;
                }
            }

            return values;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("truncated GGUF file");
        }
    }

    private static string String(BinaryReader reader)
    {
        var length = reader.ReadUInt64();
        if (length > 1 << 24)
        {
            throw new InvalidDataException("corrupt GGUF string length");
        }

        return Encoding.UTF8.GetString(reader.ReadBytes((int)length));
    }

    private static object? Value(BinaryReader reader, uint type) => type switch
    {
        0 => reader.ReadByte(),
        1 => reader.ReadSByte(),
        2 => reader.ReadUInt16(),
        3 => reader.ReadInt16(),
        4 => reader.ReadUInt32(),
        5 => reader.ReadInt32(),
        6 => reader.ReadSingle(),
        7 => reader.ReadBoolean(),
        8 => String(reader),
        9 => SkipArray(reader),
        10 => reader.ReadUInt64(),
        11 => reader.ReadInt64(),
        12 => reader.ReadDouble(),
        _ => throw new InvalidDataException($"unknown GGUF value type {type}"),
    };

    private static object? SkipArray(BinaryReader reader)
    {
        var type = reader.ReadUInt32();
        var count = reader.ReadUInt64();
        for (ulong i = 0; i < count; i++)
        {
            Value(reader, type);
        }

        return null;
    }
}
