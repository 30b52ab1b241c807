using Gateway.Spend;

namespace Gateway.Targets.Hosted;

/// <summary>What the response path learned while passing a provider's answer through.</summary>
internal sealed class UsageCapture
{
    public Usage? Usage { get; set; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the first body bytes were handed on.</summary>
    public long? FirstByteTimestamp { get; set; }
}
