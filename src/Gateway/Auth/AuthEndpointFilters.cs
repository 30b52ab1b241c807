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
            var token = BearerToken.Read(http.Request);
            if (token.IsEmpty)
            {
                throw OpenAiErrors.MissingKey(store.Count > 0);
            }

            var identity = store.Find(token) ?? throw OpenAiErrors.InvalidKey(store.Count > 0);
            http.Features.Set(identity);
            return next(context);
        });

    /// <summary>Requires <c>Auth:AdminKey</c>, compared in constant time.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
        {
            var http = context.HttpContext;
            var adminKey = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.AdminKey;
            if (string.IsNullOrEmpty(adminKey))
            {
                throw OpenAiErrors.AdminDisabled();
            }

            var token = BearerToken.Read(http.Request);
            if (token.IsEmpty)
            {
                throw OpenAiErrors.MissingKey();
            }

            if (!CryptographicOperations.FixedTimeEquals(
                    SHA256.HashData(Encoding.UTF8.GetBytes(token.ToString())),
                    SHA256.HashData(Encoding.UTF8.GetBytes(adminKey))))
            {
                throw OpenAiErrors.InvalidAdminKey();
            }

            return next(context);
        });

    /// <summary>The identity set by <see cref="RequireClientKey{TBuilder}"/>.</summary>
    public static ClientIdentity GetClientIdentity(this HttpContext context) =>
        context.Features.Get<ClientIdentity>() ?? throw new InvalidOperationException("The endpoint does not require a client key.");
}
