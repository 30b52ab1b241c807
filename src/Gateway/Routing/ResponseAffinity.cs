using System.Text.Json;
using Gateway.Hosting;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace Gateway.Routing;

/// <summary>Where a Responses API response was created: the route and provider that hold its state, and whose it is.</summary>
public sealed record ResponseOrigin(string Route, string? Upstream, string Team);

/// <summary>
/// Which route and upstream served each Responses API response id, so that a follow-up
/// (<c>previous_response_id</c>) and <c>GET/DELETE /v1/responses/{id}</c> reach the provider that stored it.
/// Kept in this replica's memory (bounded: least recently used entries go first; expiring: providers keep stored
/// responses 30 days) and, with <c>Redis:ConnectionString</c>, in Redis too, so a follow-up that lands on another
/// replica finds it. Only the team that created a response can reach it through the gateway.
/// </summary>
public sealed class ResponseAffinity(SharedState? shared = null) : IDisposable
{
    public const int Capacity = 200_000;
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(30);

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity, CompactionPercentage = 0.1 });

    public void Remember(string responseId, ResponseOrigin origin)
    {
        _cache.Set(responseId, origin, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = Lifetime });
        if (shared is { Enabled: true })
        {
            var json = JsonSerializer.Serialize(origin);
            shared.Send("response_affinity", db => db.StringSetAsync(Key(responseId), json, Lifetime));
        }
    }

    /// <summary>The response's origin when <paramref name="team"/> created it; null when unknown (here and in Redis) or another team's.</summary>
    public async ValueTask<ResponseOrigin?> FindAsync(string responseId, string team)
    {
        if (!_cache.TryGetValue(responseId, out ResponseOrigin? origin) && shared is { Enabled: true })
        {
            origin = await shared.RunAsync("response_affinity", async db =>
                await db.StringGetAsync(Key(responseId)) is { HasValue: true } value ? JsonSerializer.Deserialize<ResponseOrigin>(value.ToString()) : null,
                () => null);
            if (origin is not null)
            {
                _cache.Set(responseId, origin, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = Lifetime });
            }
        }

        return origin?.Team == team ? origin : null;
    }

    public void Forget(string responseId)
    {
        _cache.Remove(responseId);
        if (shared is { Enabled: true })
        {
            shared.Send("response_affinity", db => db.KeyDeleteAsync(Key(responseId)));
        }
    }

    private static RedisKey Key(string responseId) => "gw:resp:" + responseId;

    public void Dispose() => _cache.Dispose();
}
