using Microsoft.Extensions.Caching.Memory;

namespace Gateway.Routing;

/// <summary>Where a Responses API response was created: the route and provider that hold its state, and whose it is.</summary>
public sealed record ResponseOrigin(string Route, string? Upstream, string Team);

/// <summary>
/// Which route and upstream served each Responses API response id, so that a follow-up
/// (<c>previous_response_id</c>) and <c>GET/DELETE /v1/responses/{id}</c> reach the provider that stored it.
/// Bounded (least recently used entries go first) and expiring (providers keep stored responses 30 days);
/// per replica (a follow-up another replica served is routed by policy to a hosted route, see docs/operations.md).
/// Only the team that created a response can reach it through the gateway.
/// </summary>
public sealed class ResponseAffinity : IDisposable
{
    public const int Capacity = 200_000;
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(30);

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity, CompactionPercentage = 0.1 });

    public void Remember(string responseId, ResponseOrigin origin) =>
        _cache.Set(responseId, origin, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = Lifetime });

    /// <summary>The response's origin when <paramref name="team"/> created it; null when unknown here or another team's.</summary>
    public ResponseOrigin? Find(string responseId, string team) =>
        _cache.TryGetValue(responseId, out ResponseOrigin? origin) && origin!.Team == team ? origin : null;

    public void Forget(string responseId) => _cache.Remove(responseId);

    public void Dispose() => _cache.Dispose();
}
