using System.Buffers;
using Gateway.Spend;

namespace Gateway.Targets.Hosted;

/// <summary>What the response path learned while passing a provider's answer through.</summary>
internal sealed class UsageCapture
{
    public Usage? Usage { get; set; }

    /// <summary>Responses API: the id of the response the provider created (and may have stored).</summary>
    public string? ResponseId { get; set; }

    /// <summary>
    /// Each stream chunk's JSON data line (one line each), kept only
    /// until usage shows up: if it never does, they give the completion text to count tokens from.
    /// A copy per chunk is cheap; parsing each chunk would not be, so parsing waits for the end.
    /// </summary>
    private System.Buffers.ArrayBufferWriter<byte>? _payloads;

    public void KeepPayload(ReadOnlySpan<byte> json)
    {
        if (Usage is not null || json.IsEmpty)
        {
            return;
        }

        _payloads ??= new System.Buffers.ArrayBufferWriter<byte>(4096);
        _payloads.Write(json);
        _payloads.Write("\n"u8);
    }

    private System.Text.StringBuilder? _bodyText;

    /// <summary>A whole JSON body without usage (it may span lines): its text is taken at once.</summary>
    public void KeepBody(ReadOnlySpan<byte> json)
    {
        _bodyText ??= new System.Text.StringBuilder();
        UsageReader.AppendCompletionText(json, _bodyText);
    }

    /// <summary>The completion text of the kept payloads, when usage never came; null when it did.</summary>
    public string? CompletionWithoutUsage()
    {
        if (Usage is not null)
        {
            return null;
        }

        var text = _bodyText ?? new System.Text.StringBuilder();
        var payloads = _payloads is null ? default : _payloads.WrittenSpan;
        while (!payloads.IsEmpty)
        {
            var end = payloads.IndexOf((byte)'\n');
            var line = end < 0 ? payloads : payloads[..end];
            payloads = end < 0 ? default : payloads[(end + 1)..];
            UsageReader.AppendCompletionText(line, text);
        }

        return text.ToString();
    }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the provider last sent stream bytes (to tell its silence from a client leaving).</summary>
    public long? LastUpstreamBytes { get; set; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the first body bytes were handed on.</summary>
    public long? FirstByteTimestamp { get; set; }
}
