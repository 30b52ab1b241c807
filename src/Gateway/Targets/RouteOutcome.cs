using Gateway.OpenAi;
using Gateway.Spend;

namespace Gateway.Targets;

/// <summary>What one attempt produced.</summary>
public sealed record RouteOutcome
{
    /// <summary>The HTTP status the client got (or would get); 499 when the client went away.</summary>
    public required int Status { get; init; }

    public Usage? Usage { get; init; }

    /// <summary>
    /// The generated text, when the target served the request but could not report its usage (a
    /// provider that omits <c>usage</c>): Spend counts its tokens instead of recording $0.
    /// </summary>
    public string? CompletionWithoutUsage { get; init; }

    /// <summary>A failure not yet reported to the client; the caller writes it if no fallback takes over.</summary>
    public OpenAiException? Error { get; init; }

    /// <summary>True when nothing was sent to the client and another route may try.</summary>
    public bool Retryable { get; init; }

    /// <summary>Time from the start of the attempt to the first body byte sent to the client.</summary>
    public TimeSpan? TimeToFirstByte { get; init; }

    /// <summary>Responses API: the id of the response the route created, so follow-ups can reach the same provider.</summary>
    public string? ResponseId { get; init; }

    public static RouteOutcome ClientGone { get; } = new() { Status = 499 };
}
