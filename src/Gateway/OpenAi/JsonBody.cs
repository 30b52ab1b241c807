using System.Buffers.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Gateway.OpenAi;

/// <summary>
/// Parses a JSON request body whose every string can be read: <see cref="JsonDocument"/> accepts invalid UTF-8
/// inside strings and escaped lone surrogates (<c>"\ud800"</c>), and <see cref="JsonElement.GetString"/> throws on
/// them later, wherever a component happens to read that string. Checking once here turns both into a 400.
/// </summary>
public static class JsonBody
{
    /// <exception cref="OpenAiException">400 <c>invalid_json</c> for an empty body, malformed JSON or text that is not Unicode.</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body, int maxDepth = 64)
    {
        if (body.IsEmpty)
        {
            throw OpenAiErrors.InvalidJson("the body is empty");
        }

        ThrowIfNotText(body.Span);
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth });
        }
        catch (JsonException ex)
        {
            throw OpenAiErrors.InvalidJson($"line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1}");
        }
    }

    /// <summary>400 when <paramref name="json"/> is not UTF-8 or escapes a surrogate that is not half of a pair.</summary>
    public static void ThrowIfNotText(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            Utf8.ToUtf16(json, new char[json.Length], out var read, out _, replaceInvalidSequences: false);
            throw OpenAiErrors.InvalidJson($"byte {read + 1} is not valid UTF-8");
        }

        if (UnpairedSurrogateEscape(json) is >= 0 and var at)
        {
            throw OpenAiErrors.InvalidJson($"byte {at + 1}: '{System.Text.Encoding.ASCII.GetString(json.Slice(at, 6))}' is half of a UTF-16 surrogate pair");
        }
    }

    /// <summary>The offset of the first <c>\uD800</c>–<c>\uDFFF</c> escape that is not a high surrogate followed by a low one, or -1.</summary>
    internal static int UnpairedSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var pos = 0;
        while (true)
        {
            var next = json[pos..].IndexOf((byte)'\\');
            if (next < 0)
            {
                return -1;
            }

            pos += next;
            // Backslashes only occur inside strings, each starting an escape: "\\" and "\"" are two bytes, "\uXXXX" six.
            if (pos + 6 > json.Length || json[pos + 1] != (byte)'u' || !TryHex(json.Slice(pos + 2, 4), out var unit))
            {
                pos += 2;
                continue;
            }

            if (char.IsLowSurrogate((char)unit))
            {
                return pos;
            }

            if (!char.IsHighSurrogate((char)unit))
            {
                pos += 6;
                continue;
            }

            if (pos + 12 <= json.Length && json[pos + 6] == (byte)'\\' && json[pos + 7] == (byte)'u'
                && TryHex(json.Slice(pos + 8, 4), out var low) && char.IsLowSurrogate((char)low))
            {
                pos += 12;
                continue;
            }

            return pos;
        }
    }

    private static bool TryHex(ReadOnlySpan<byte> digits, out ushort value) =>
        Utf8Parser.TryParse(digits, out value, out var consumed, 'X') && consumed == 4;
}
