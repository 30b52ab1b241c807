using System.Runtime.InteropServices;
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

    /// <summary>Appends a content value (string, or an array of parts whose text parts are joined).</summary>
    private (int Start, int Length, int Original) Append(JsonElement content, int head, int tail)
    {
        var start = _length;
        var original = 0;
        if (content.ValueKind == JsonValueKind.String)
        {
            original = AppendString(content);
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in content.EnumerateArray())
            {
                var text = MessageContent.PartText(part);
                if (text.ValueKind == JsonValueKind.String)
                {
                    if (_length > start)
                    {
                        Ensure(1);
                        _buffer[_length++] = '\n';
                        original++;
                    }

                    original += AppendString(text);
                }
            }
        }

        var length = _length - start;
        if (length > head + tail)
        {
            // Keep the head and the tail: instructions tend to sit at either end of a long prompt.
            _buffer.AsSpan(_length - tail, tail).CopyTo(_buffer.AsSpan(start + head + 1));
            _buffer[start + head] = '\n';
            length = head + 1 + tail;
            _length = start + length;
        }

        return (start, length, original);
    }

    private int AppendString(JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        var reader = new Utf8JsonReader(raw);
        reader.Read();
        // UTF-8 bytes never number fewer than the UTF-16 chars they decode to.
        Ensure(raw.Length);
        var written = reader.CopyString(_buffer.AsSpan(_length));
        _length += written;
        return written;
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
