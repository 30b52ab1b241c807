using System.Security.Cryptography;
using System.Text;
using Gateway.OpenAi;
using Microsoft.Extensions.Options;

namespace Gateway.Auth;

/// <summary>Endpoint conventions that require a client key or the admin key.</summary>
public static class AuthEndpointFilters
{
    /// <summary>Requires a valid client key; the resolved <see cref="ClientIdentity"/> is put in the request features.</summary>
    public static TBuilder RequireClientKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
        {
            var http = context.HttpContext;
            var store = http.RequestServices.GetRequiredService<ClientKeyStore>();
            var (identity, ours) = Resolve(http, store);
            if (identity is not null)
            {
                http.Features.Set(identity);
                return next(context);
            }

            return ours ? ResolveAfterReloadAsync(context, next, store) : throw OpenAiErrors.InvalidKey(store.Count > 0);
        });

    /// <summary>An unknown key of ours may have been created on another replica since this one last polled: usable at once, not a poll interval later.</summary>
    private static async ValueTask<object?> ResolveAfterReloadAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, ClientKeyStore store)
    {
        var http = context.HttpContext;
        await http.RequestServices.GetRequiredService<VirtualKeyStore>().RefreshForMissAsync(http.RequestAborted);
        http.Features.Set(Resolve(http, store).Identity ?? throw OpenAiErrors.InvalidKey(store.Count > 0));
        return await next(context);
    }

    private static readonly object ConnectionKey = new();

    /// <summary>The request's key resolved, or null; and whether it looks like one of our runtime keys (worth a reload when unknown).</summary>
    private static (ClientIdentity? Identity, bool RuntimeShaped) Resolve(HttpContext http, ClientKeyStore store)
    {
        var token = BearerToken.Read(http.Request);
        if (token.IsEmpty)
        {
            throw OpenAiErrors.MissingKey(store.Count > 0);
        }

        return (Resolve(http, store, token), token.StartsWith(VirtualKeyStore.SecretPrefix, StringComparison.Ordinal));
    }

    /// <summary>
    /// Resolves the key, remembering the last one per connection: clients keep connections open with
    /// one key, and hashing it on every request showed up in profiles. The cached token is compared
    /// in constant time; it lives as long as the connection, like the request headers it came from.
    /// </summary>
    private static ClientIdentity? Resolve(HttpContext http, ClientKeyStore store, ReadOnlySpan<char> token)
    {
        var items = http.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items;
        if (items is not null && items.TryGetValue(ConnectionKey, out var cached) && cached is CachedKey last
            && last.Version == store.Version
            && (last.ValidUntil is not { } until || until > http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow())
            && CryptographicOperations.FixedTimeEquals(System.Runtime.InteropServices.MemoryMarshal.AsBytes(last.Token.AsSpan()),
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(token)))
        {
            return last.Identity;
        }

        var version = store.Version;
        if (store.Resolve(token) is not var (identity, validUntil))
        {
            return null;
        }

        if (items is not null)
        {
            items[ConnectionKey] = new CachedKey(token.ToString(), identity, version, validUntil);
        }

        return identity;
    }

    /// <summary>The last key seen on a connection; dropped when runtime keys change (a revocation) or the key's validity ends.</summary>
    private sealed record CachedKey(string Token, ClientIdentity Identity, int Version, DateTimeOffset? ValidUntil);

    private static readonly AdminIdentity Bootstrap = new(AdminIdentity.BootstrapName, new HashSet<string> { AdminScopes.Admin });

    /// <summary>
    /// Requires an admin key: <c>Auth:AdminKey</c> (compared in constant time; every scope) or a runtime admin key created
    /// with scopes. An endpoint's <see cref="AdminScopeRequirement"/> names the scope it needs: a key without it gets 403.
    /// </summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
        {
            var http = context.HttpContext;
            var adminKey = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.AdminKey;
            var token = BearerToken.Read(http.Request);
            var keys = http.RequestServices.GetRequiredService<VirtualKeyStore>();
            var disabled = string.IsNullOrEmpty(adminKey) && keys.Count == 0;
            var identity = ResolveAdmin(token, adminKey, keys)
                ?? throw (disabled ? OpenAiErrors.AdminDisabled() : token.IsEmpty ? OpenAiErrors.MissingKey() : OpenAiErrors.InvalidAdminKey());

            if (http.GetEndpoint()?.Metadata.GetMetadata<AdminScopeRequirement>() is { } required && !identity.Has(required.Scope))
            {
                throw OpenAiErrors.AdminScopeMissing(identity.Name, required.Scope);
            }

            http.Features.Set(identity);
            return next(context);
        });

    /// <summary>
    /// The admin identity a key grants: <c>Auth:AdminKey</c> (every scope) or a runtime key created with scopes; null for
    /// anything else (a client key, a revoked or unknown key). Shared by the <c>/admin</c> filter and the console's sign-in.
    /// </summary>
    public static AdminIdentity? ResolveAdmin(ReadOnlySpan<char> token, string? adminKey, VirtualKeyStore keys)
    {
        if (token.IsEmpty)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(adminKey) && Matches(token, adminKey))
        {
            return Bootstrap;
        }

        return keys.Find(token) is { Key.Scopes: { } scopes } found
            ? new AdminIdentity(found.Key.Name, scopes.ToHashSet(StringComparer.Ordinal)) { KeyId = found.Key.Id }
            : null;
    }

    /// <summary>The scope an admin key needs for these endpoints.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AdminScopeRequirement(scope));

    /// <summary>Who made an admin change, for audit logs: the admin key's name.</summary>
    public static string GetAdminActor(this HttpContext context) => context.Features.Get<AdminIdentity>()?.Name ?? AdminIdentity.BootstrapName;

    /// <summary>
    /// When <c>Auth:MetricsKey</c> is set, requests under <paramref name="path"/> need it (or the admin key) as a bearer
    /// token. A middleware, since the Prometheus endpoint is not a route handler that endpoint filters reach.
    /// </summary>
    public static IApplicationBuilder RequireMetricsKey(this IApplicationBuilder app, PathString path) =>
        app.UseWhen(http => http.Request.Path.StartsWithSegments(path), branch => branch.Use(static (http, next) =>
        {
            var auth = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
            if (string.IsNullOrEmpty(auth.MetricsKey))
            {
                return next(http);
            }

            var token = BearerToken.Read(http.Request);
            return Matches(token, auth.MetricsKey) || (!string.IsNullOrEmpty(auth.AdminKey) && Matches(token, auth.AdminKey))
                ? next(http)
                : throw OpenAiErrors.InvalidMetricsKey();
        }));

    /// <summary>Constant-time comparison of hashes; an empty token is missing, not wrong.</summary>
    private static bool Matches(ReadOnlySpan<char> token, string key) =>
        token.IsEmpty
            ? throw OpenAiErrors.MissingKey()
            : CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(token.ToString())),
                SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The identity set by <see cref="RequireClientKey{TBuilder}"/>.</summary>
    public static ClientIdentity GetClientIdentity(this HttpContext context) =>
        context.Features.Get<ClientIdentity>() ?? throw new InvalidOperationException("The endpoint does not require a client key.");
}
