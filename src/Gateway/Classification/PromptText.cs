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
            byte[]? unescaped = null;
            var utf8 = reader.ValueSpan;
            if (reader.ValueIsEscaped)
            {
                // Unescaped UTF-8 is never longer than its escaped form.
                unescaped = utf8.Length <= 64 * 1024 ? ArrayPool<byte>.Shared.Rent(utf8.Length) : new byte[utf8.Length];
                utf8 = unescaped.AsSpan(0, reader.CopyString(unescaped));
            }

            try
            {
                AddUtf8(utf8);
            }
            finally
            {
                if (unescaped is { Length: <= 64 * 1024 })
                {
                    ArrayPool<byte>.Shared.Return(unescaped);
                }
            }
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
