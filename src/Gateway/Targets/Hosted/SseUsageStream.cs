using System.Buffers;

namespace Gateway.Targets.Hosted;

/// <summary>
/// Passes a provider's server-sent events through unchanged, one complete event at a time, reading
/// the <c>usage</c> chunk on the way. When the gateway (not the client) asked for
/// <c>stream_options.include_usage</c>, the usage-only chunk (empty <c>choices</c>) is dropped so the
/// client sees the stream it asked for.
/// </summary>
/// <remarks>
/// An event is released as soon as its terminating blank line arrives; a partial event is held back,
/// which costs no latency because a client cannot act on half an event either.
/// </remarks>
internal sealed class SseUsageStream : Stream
{
    private const int MinRead = 4096;

    private readonly Stream _inner;
    private readonly bool _dropUsageChunk;
    private readonly UsageCapture _capture;
    private readonly TimeProvider _timeProvider;
    private readonly bool _readResponseId;

    // _buffer[0.._ready) holds complete events to hand out from _readPos; _buffer[_ready.._length)
    // holds the start of an event still arriving; _scan is where the search for its end resumes.
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(MinRead * 2);
    private int _readPos;
    private int _ready;
    private int _length;
    private int _scan;
    private bool _eof;

    /// <param name="readResponseId">A Responses stream: the response id is read from the first event that carries it.</param>
    public SseUsageStream(Stream inner, bool dropUsageChunk, UsageCapture capture, TimeProvider timeProvider, bool readResponseId = false)
    {
        _readResponseId = readResponseId;
        _inner = inner;
        _dropUsageChunk = dropUsageChunk;
        _capture = capture;
        _timeProvider = timeProvider;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_readPos < _ready)
            {
                var count = Math.Min(destination.Length, _ready - _readPos);
                _buffer.AsSpan(_readPos, count).CopyTo(destination.Span);
                _readPos += count;
                _capture.FirstByteTimestamp ??= _timeProvider.GetTimestamp();
                return count;
            }

            Compact();
            if (_eof)
            {
                if (_length == 0)
                {
                    return 0;
                }

                // A trailing event without its blank line: still the provider's bytes, hand them on.
                Inspect(0, _length);
                _ready = _length;
                continue;
            }

            if (_buffer.Length - _length < MinRead)
            {
                Grow();
            }

            var read = await _inner.ReadAsync(_buffer.AsMemory(_length), cancellationToken);
            _capture.LastUpstreamBytes = _timeProvider.GetTimestamp();
            if (read == 0)
            {
                _eof = true;
                continue;
            }

            _length += read;
            ReleaseCompleteEvents();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void ReleaseCompleteEvents()
    {
        var eventStart = _ready;
        var i = Math.Max(_scan, eventStart);
        while (i < _length)
        {
            if (_buffer[i] != (byte)'\n')
            {
                i++;
                continue;
            }

            // An event ends at a blank line: "\n\n" or "\n\r\n".
            var next = i + 1;
            if (next < _length && _buffer[next] == (byte)'\r')
            {
                next++;
            }

            if (next >= _length)
            {
                break; // need more bytes to decide
            }

            if (_buffer[next] != (byte)'\n')
            {
                i = next;
                continue;
            }

            var eventEnd = next + 1;
            if (Inspect(eventStart, eventEnd - eventStart))
            {
                // Drop the usage-only chunk by closing the gap.
                _buffer.AsSpan(eventEnd, _length - eventEnd).CopyTo(_buffer.AsSpan(eventStart));
                _length -= eventEnd - eventStart;
                i = eventStart;
            }
            else
            {
                eventStart = eventEnd;
                _ready = eventEnd;
                i = eventEnd;
            }
        }

        _scan = i;
    }

    /// <summary>Reads usage from one event; returns true when the event must be dropped.</summary>
    private bool Inspect(int start, int length)
    {
        var evt = _buffer.AsSpan(start, length);
        var data = FindData(evt);
        if (_readResponseId && _capture.ResponseId is null && !data.IsEmpty && data[0] == (byte)'{')
        {
            _capture.ResponseId = UsageReader.ReadResponseId(data);
        }

        if (data.IsEmpty || data[0] != (byte)'{' || !LooksLikeUsageObject(data))
        {
            _capture.KeepPayload(data);
            return false;
        }

        if (!UsageReader.TryRead(data, out var usage, out var choicesEmpty))
        {
            return false;
        }

        _capture.Usage = usage;
        return _dropUsageChunk && choicesEmpty;
    }

    /// <summary>The payload of the event's single <c>data:</c> line; empty when there is none or several.</summary>
    private static ReadOnlySpan<byte> FindData(ReadOnlySpan<byte> evt)
    {
        ReadOnlySpan<byte> found = default;
        while (!evt.IsEmpty)
        {
            var newline = evt.IndexOf((byte)'\n');
            var line = newline < 0 ? evt : evt[..newline];
            evt = newline < 0 ? default : evt[(newline + 1)..];
            if (line.StartsWith("data:"u8))
            {
                if (!found.IsEmpty)
                {
                    return default;
                }

                found = line[5..];
                if (!found.IsEmpty && found[0] == (byte)' ')
                {
                    found = found[1..];
                }

                found = found.TrimEnd((byte)'\r');
            }
        }

        return found;
    }

    /// <summary>Cheap pre-check so ordinary chunks (<c>"usage":null</c> or none) are not parsed.</summary>
    private static bool LooksLikeUsageObject(ReadOnlySpan<byte> json)
    {
        var at = json.IndexOf("\"usage\""u8);
        while (at >= 0)
        {
            var rest = json[(at + 7)..].TrimStart(" \t\r\n"u8);
            if (!rest.IsEmpty && rest[0] == (byte)':')
            {
                rest = rest[1..].TrimStart(" \t\r\n"u8);
                if (!rest.IsEmpty && rest[0] == (byte)'{')
                {
                    return true;
                }
            }

            json = json[(at + 7)..];
            at = json.IndexOf("\"usage\""u8);
        }

        return false;
    }

    private void Compact()
    {
        if (_readPos == 0)
        {
            return;
        }

        _buffer.AsSpan(_readPos, _length - _readPos).CopyTo(_buffer);
        _length -= _readPos;
        _ready -= _readPos;
        _scan = Math.Max(0, _scan - _readPos);
        _readPos = 0;
    }

    private void Grow()
    {
        var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            var buffer = Interlocked.Exchange(ref _buffer, []);
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
