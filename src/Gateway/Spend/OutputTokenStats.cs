namespace Gateway.Spend;

/// <summary>
/// How many completion tokens recent answers used: the 90th percentile of the last
/// <see cref="Window"/> served requests that reported any. Cost estimates for requests without <c>max_tokens</c>
/// use it instead of a fixed guess, so a budget admits as many concurrent requests as it can actually pay for,
/// while staying above most answers. Null until <see cref="MinimumSamples"/> answers were seen.
/// </summary>
public sealed class OutputTokenStats
{
    public const int Window = 1024;
    public const int MinimumSamples = 32;
    private const int RecomputeEvery = 64;

    private readonly Lock _gate = new();
    private readonly int[] _samples = new int[Window];
    private int _count;
    private int _next;
    private int _sinceRecompute;
    private int _typical; // 0: not enough samples yet

    public int? Typical => Volatile.Read(ref _typical) is > 0 and var t ? t : null;

    public void Observe(int completionTokens)
    {
        if (completionTokens <= 0)
        {
            return;
        }

        lock (_gate)
        {
            _samples[_next] = completionTokens;
            _next = (_next + 1) % Window;
            _count = Math.Min(_count + 1, Window);
            if (_count < MinimumSamples || (++_sinceRecompute < RecomputeEvery && _typical > 0))
            {
                return;
            }

            _sinceRecompute = 0;
            var sorted = _samples[.._count];
            Array.Sort(sorted);
            Volatile.Write(ref _typical, sorted[(int)Math.Ceiling(0.9 * _count) - 1]);
        }
    }
}
