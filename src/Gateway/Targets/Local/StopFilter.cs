namespace Gateway.Targets.Local;

/// <summary>
/// Applies OpenAI <c>stop</c> sequences to generated text: output ends before the first stop
/// sequence, which itself is never sent. Text that could be the start of a stop sequence is held
/// back until the next pieces show whether it is one, so a streamed client never sees part of it.
/// </summary>
internal sealed class StopFilter(IReadOnlyList<string> stops)
{
    private readonly int _hold = stops.Count == 0 ? 0 : stops.Max(s => s.Length) - 1;
    private string _pending = "";

    /// <summary>Adds a piece; returns the text safe to send. <paramref name="stopped"/> is true once a stop sequence appeared.</summary>
    public string Push(string piece, out bool stopped)
    {
        stopped = false;
        if (stops.Count == 0)
        {
            return piece;
        }

        _pending += piece;
        var at = -1;
        foreach (var stop in stops)
        {
            var index = _pending.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (at < 0 || index < at))
            {
                at = index;
            }
        }

        if (at >= 0)
        {
            stopped = true;
            var before = _pending[..at];
            _pending = "";
            return before;
        }

        var safe = Math.Max(0, _pending.Length - _hold);
        var text = _pending[..safe];
        _pending = _pending[safe..];
        return text;
    }

    /// <summary>The held-back text once generation ended without a stop sequence.</summary>
    public string Flush()
    {
        var rest = _pending;
        _pending = "";
        return rest;
    }
}
