using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using Gateway.OpenAi;

namespace Gateway.Classification;

/// <summary>
/// The part of a conversation the classifier reads, copied into one pooled buffer: the last user
/// turn (truncated deterministically) and a little context (system prompt, the turns just before).
/// Reading strings through <see cref="Utf8JsonReader.CopyString(Span{char})"/> avoids a string per
/// message. Instances are reused per thread; <see cref="Load"/> resets them.
/// </summary>
internal sealed class PromptText
{
    /// <summary>Longest last-user text read: the first <see cref="HeadChars"/> and the last <see cref="TailChars"/> chars of longer ones.</summary>
    public const int HeadChars = 3072;
    public const int TailChars = 1024;
    public const int MaxContextChars = 512;
    public const int MaxContextTurns = 2;

    private char[] _buffer = new char[8192];
    private int _length;
    private readonly (int Start, int Length)[] _context = new (int, int)[MaxContextTurns + 1];

    /// <summary>The last user turn as read (head and tail joined by a newline when truncated).</summary>
    public ReadOnlySpan<char> LastUser => _buffer.AsSpan(LastUserStart, LastUserLength);

    private int LastUserStart { get; set; }
    private int LastUserLength { get; set; }

    /// <summary>Characters of the last user turn before truncation.</summary>
    public int LastUserOriginalLength { get; private set; }

    public int ContextCount { get; private set; }

    public ReadOnlySpan<char> Context(int i) => _buffer.AsSpan(_context[i].Start, _context[i].Length);

    /// <summary>Number of messages in the conversation (1 for a bare prompt).</summary>
    public int Turns { get; private set; }

    public bool HasSystem { get; private set; }

    /// <summary>
    /// Reads a conversation (chat, Responses or completion prompt). Anything odd (no user turn, non-text content,
    /// empty strings) reads as an empty prompt rather than failing: the classifier must answer for every request the
    /// gateway accepted.
    /// </summary>
    public void Load(Conversation conversation)
    {
        _length = 0;
        LastUserStart = LastUserLength = LastUserOriginalLength = 0;
        ContextCount = 0;
        var turns = conversation.Turns;
        Turns = turns.Count;
        HasSystem = conversation.HasSystem;
        if (HasSystem)
        {
            AddContext(turns[0].Content);
        }

        var lastUser = conversation.LastUserIndex;
        var end = lastUser < 0 ? turns.Count : lastUser;
        for (var i = Math.Max(HasSystem ? 1 : 0, end - MaxContextTurns); i < end; i++)
        {
            AddContext(turns[i].Content);
        }

        if (lastUser >= 0)
        {
            (LastUserStart, LastUserLength, LastUserOriginalLength) = Append(turns[lastUser].Content, HeadChars, TailChars);
        }
    }

    private void AddContext(JsonElement content)
    {
        if (ContextCount < _context.Length)
        {
            var (start, length, _) = Append(content, MaxContextChars, 0);
            _context[ContextCount++] = (start, length);
        }
    }

    /// <summary>
    /// Appends a content value (string, or an array of parts whose text parts are joined by newlines), kept as its first
    /// <paramref name="head"/> chars, a newline and its last <paramref name="tail"/> chars when it is longer than both.
    /// Only the kept chars are decoded: a 15 MiB prompt costs the classifier ~4 K chars, not a 30 MiB copy of itself.
    /// </summary>
    private (int Start, int Length, int Original) Append(JsonElement content, int head, int tail)
    {
        var appender = new Appender(this, head, tail);
        if (content.ValueKind == JsonValueKind.String)
        {
            appender.AddString(content);
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in content.EnumerateArray())
            {
                var text = MessageContent.PartText(part);
                if (text.ValueKind == JsonValueKind.String)
                {
                    if (appender.Logical > 0)
                    {
                        appender.AddNewline();
                    }

                    appender.AddString(text);
                }
            }
        }

        return appender.Finish();
    }

    /// <summary>
    /// The text of one <see cref="Append"/>, held in the buffer from <c>start</c> as: all of it while it fits in head + tail
    /// chars; past that, the first head chars followed by a stretch that ends with the last chars so far (compacted to
    /// the last tail chars whenever it grows long). <see cref="Logical"/> counts every char, kept or skipped.
    /// </summary>
    private struct Appender(PromptText owner, int head, int tail)
    {
        private readonly int _start = owner._length;

        public int Logical { get; private set; }

        public void AddNewline()
        {
            owner.Ensure(1);
            owner._buffer[owner._length++] = '\n';
            Logical++;
            CompactIfLong();
        }

        public void AddString(JsonElement value)
        {
            var reader = new Utf8JsonReader(JsonMarshal.GetRawUtf8Value(value));
            reader.Read();
            var utf8 = reader.ValueSpan;
            if (!reader.ValueIsEscaped)
            {
                AddUtf8(utf8);
            }
            else if (utf8.Length > SmallEscaped && CountEscaped(utf8) is var count && Skips(count))
            {
                AddEscaped(utf8, count);
            }
            else
            {
                // Unescaped UTF-8 is never longer than its escaped form.
                var unescaped = ArrayPool<byte>.Shared.Rent(utf8.Length);
                try
                {
                    AddUtf8(unescaped.AsSpan(0, reader.CopyString(unescaped)));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(unescaped);
                }
            }
        }

        /// <summary>Escaped strings up to this many bytes are unescaped whole, into a pooled buffer.</summary>
        private const int SmallEscaped = 64 * 1024;

        // A UTF-16 char takes at most 6 bytes of JSON string (\uXXXX).
        private const int MaxEscapedBytesPerChar = 6;

        /// <summary>Whether a string of <paramref name="count"/> chars appended now would have chars in its middle dropped.</summary>
        private readonly bool Skips(int count) => count - Math.Max(0, head - Logical) > tail && Logical + count > head + tail;

        /// <summary>
        /// A long escaped string without unescaping it whole: only its first and last few thousand bytes are unescaped
        /// (cut where no escape or UTF-8 sequence is split), and its chars are counted in place.
        /// </summary>
        private void AddEscaped(ReadOnlySpan<byte> escaped, int count)
        {
            var headLeft = Math.Max(0, head - Logical);
            if (headLeft > 0)
            {
                var end = Math.Min(escaped.Length, MaxEscapedBytesPerChar * (headLeft + 2));
                while (!IsCut(escaped, end))
                {
                    end--;
                }

                var written = Decode(escaped[..end]);
                owner._length += Math.Min(written, headLeft);
            }

            if (tail > 0)
            {
                var from = Math.Max(0, escaped.Length - MaxEscapedBytesPerChar * (tail + 2));
                while (!IsCut(escaped, from))
                {
                    from++;
                }

                var decoded = Decode(escaped[from..]);
                owner._buffer.AsSpan(owner._length + decoded - tail, tail).CopyTo(owner._buffer.AsSpan(_start + head));
                owner._length = _start + head + tail;
            }
            else
            {
                owner._length = _start + head;
            }

            Logical += count;
        }

        /// <summary>Unescapes a stretch of a JSON string (cut at <see cref="IsCut"/> points) into the buffer after its end; returns the chars written.</summary>
        private readonly int Decode(ReadOnlySpan<byte> stretch)
        {
            var quoted = ArrayPool<byte>.Shared.Rent(stretch.Length + 2);
            var utf8 = ArrayPool<byte>.Shared.Rent(stretch.Length);
            try
            {
                quoted[0] = (byte)'"';
                stretch.CopyTo(quoted.AsSpan(1));
                quoted[stretch.Length + 1] = (byte)'"';
                var reader = new Utf8JsonReader(quoted.AsSpan(0, stretch.Length + 2));
                reader.Read();
                var bytes = reader.CopyString(utf8);
                owner.Ensure(bytes);
                return Encoding.UTF8.GetChars(utf8.AsSpan(0, bytes), owner._buffer.AsSpan(owner._length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(quoted);
                ArrayPool<byte>.Shared.Return(utf8);
            }
        }

        /// <summary>Whether a JSON string's raw bytes can be cut before <paramref name="at"/>: not inside an escape, nor inside a UTF-8 sequence.</summary>
        private static bool IsCut(ReadOnlySpan<byte> escaped, int at)
        {
            if (at <= 0 || at >= escaped.Length)
            {
                return true;
            }

            if ((escaped[at] & 0xC0) == 0x80 || Escapes(escaped, at - 1))
            {
                return false;
            }

            // Nor before the second \u escape of a surrogate pair (\uDC00-\uDFFF).
            if (escaped[at] == '\\' && at + 3 < escaped.Length && escaped[at + 1] == 'u' && (escaped[at + 2] | 0x20) == 'd'
                && (escaped[at + 3] | 0x20) is >= (byte)'c' and <= (byte)'f')
            {
                return false;
            }

            // Nor among the four hex digits of a \uXXXX.
            for (var back = 1; back <= 4 && at - back > 0; back++)
            {
                if (escaped[at - back] == 'u' && Escapes(escaped, at - back - 1))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Whether the backslash at <paramref name="at"/> (if it is one) starts an escape: an odd run of backslashes ends there.</summary>
        private static bool Escapes(ReadOnlySpan<byte> escaped, int at)
        {
            var run = 0;
            while (at - run >= 0 && escaped[at - run] == '\\')
            {
                run++;
            }

            return run % 2 == 1;
        }

        /// <summary>The UTF-16 chars a JSON string's raw bytes unescape to: each escape is one char (a pair is two \u escapes).</summary>
        private static int CountEscaped(ReadOnlySpan<byte> escaped)
        {
            var count = 0;
            while (escaped.IndexOf((byte)'\\') is var at and >= 0)
            {
                count += Encoding.UTF8.GetCharCount(escaped[..at]) + 1;
                escaped = escaped[(at + (escaped[at + 1] == 'u' ? 6 : 2))..];
            }

            return count + Encoding.UTF8.GetCharCount(escaped);
        }

        // A UTF-16 char takes at most 3 bytes of UTF-8 (a 4-byte sequence decodes to 2 chars).
        private const int MaxBytesPerChar = 3;

        private void AddUtf8(ReadOnlySpan<byte> utf8)
        {
            var count = Encoding.UTF8.GetCharCount(utf8);
            var headLeft = Math.Max(0, head - Logical);
            if (count - headLeft <= tail || Logical + count <= head + tail)
            {
                // Nothing of it would be skipped: decode it all.
                owner.Ensure(count);
                owner._length += Encoding.UTF8.GetChars(utf8, owner._buffer.AsSpan(owner._length));
                Logical += count;
                CompactIfLong();
                return;
            }

            // The chars that complete the head, then the last tail chars; the ones between would be dropped anyway.
            if (headLeft > 0)
            {
                var prefix = utf8[..Math.Min(utf8.Length, MaxBytesPerChar * (headLeft + 1))];
                owner.Ensure(prefix.Length);
                Utf8.ToUtf16(prefix, owner._buffer.AsSpan(owner._length), out _, out var written, replaceInvalidSequences: true, isFinalBlock: false);
                owner._length += Math.Min(written, headLeft);
            }

            if (tail > 0)
            {
                // Starting mid-char decodes up to 3 replacement chars first; the tail chars lie past them, since the
                // 3 × (tail + 1) bytes hold at least tail whole chars after them.
                var from = Math.Max(0, utf8.Length - MaxBytesPerChar * (tail + 1));
                owner.Ensure(utf8.Length - from);
                var decoded = Encoding.UTF8.GetChars(utf8[from..], owner._buffer.AsSpan(owner._length));
                var keep = owner._buffer.AsSpan(owner._length + decoded - tail, tail);
                keep.CopyTo(owner._buffer.AsSpan(_start + head));
                owner._length = _start + head + tail;
            }
            else
            {
                owner._length = _start + head;
            }

            Logical += count;
        }

        /// <summary>Past head + tail, drops all but the last tail chars after the head once they pile up.</summary>
        private readonly void CompactIfLong()
        {
            if (owner._length - _start > head + 2 * tail + 4096)
            {
                owner._buffer.AsSpan(owner._length - tail, tail).CopyTo(owner._buffer.AsSpan(_start + head));
                owner._length = _start + head + tail;
            }
        }

        public readonly (int Start, int Length, int Original) Finish()
        {
            var length = owner._length - _start;
            if (Logical > head + tail)
            {
                // Keep the head and the tail: instructions tend to sit at either end of a long prompt.
                owner.Ensure(head + 1 + tail - length);
                owner._buffer.AsSpan(owner._length - tail, tail).CopyTo(owner._buffer.AsSpan(_start + head + 1));
                owner._buffer[_start + head] = '\n';
                length = head + 1 + tail;
                owner._length = _start + length;
            }

            return (_start, length, Logical);
        }
    }

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            var bigger = new char[Math.Max(_buffer.Length * 2, _length + more)];
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            _buffer = bigger;
        }
    }

    /// <summary>Gives back an oversized buffer after a huge prompt so a thread does not keep megabytes.</summary>
    public void Trim()
    {
        if (_buffer.Length > 64 * 1024)
        {
            _buffer = new char[8192];
        }
    }
}
