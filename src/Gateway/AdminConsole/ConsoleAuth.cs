using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Gateway.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Gateway.AdminConsole;

/// <summary>
/// Console sessions: an admin key is checked once at sign-in; the cookie then carries the key's name, scopes and id
/// (or a fingerprint of <c>Auth:AdminKey</c>), encrypted by ASP.NET Core data protection, never the key. Every page
/// re-checks that the key still exists with the same scopes, so revoking a key or rotating <c>Auth:AdminKey</c>
/// ends its sessions at their next click.
/// </summary>
public static class ConsoleAuth
{
    public const string Scheme = "console";
    public const string SignInPath = "/console/signin";

    private const string ScopeClaim = "gw:scope";
    private const string KeyIdClaim = "gw:key_id";
    private const string BootstrapClaim = "gw:admin_key";

    /// <summary>The admin identity a key grants, or null (a client key, an unknown or revoked key, admin disabled).</summary>
    public static AdminIdentity? Resolve(HttpContext http, string key) =>
        AuthEndpointFilters.ResolveAdmin(key.Trim(), AdminKey(http), http.RequestServices.GetRequiredService<VirtualKeyStore>());

    public static Task SignInAsync(HttpContext http, AdminIdentity identity)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, identity.Name) };
        claims.AddRange(identity.Scopes.Order(StringComparer.Ordinal).Select(s => new Claim(ScopeClaim, s)));
        claims.Add(identity.KeyId is { } id ? new Claim(KeyIdClaim, id) : new Claim(BootstrapClaim, Fingerprint(AdminKey(http) ?? "")));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme));
        return http.SignInAsync(Scheme, principal, new AuthenticationProperties { IsPersistent = false });
    }

    public static Task SignOutAsync(HttpContext http) => http.SignOutAsync(Scheme);

    /// <summary>The signed-in admin, re-validated; null when there is no valid session.</summary>
    public static async Task<AdminIdentity?> AuthenticateAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        if (!result.Succeeded || result.Principal.Identity?.Name is not { } name)
        {
            return null;
        }

        var scopes = result.Principal.FindAll(ScopeClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new AdminIdentity(name, scopes) { KeyId = result.Principal.FindFirst(KeyIdClaim)?.Value };
    }

    /// <summary>Cookie validation on every page: the key behind the session must still be an admin key with the same scopes.</summary>
    internal static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        var http = context.HttpContext;
        bool valid;
        if (principal?.FindFirst(KeyIdClaim)?.Value is { } id)
        {
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            var key = http.RequestServices.GetRequiredService<VirtualKeyStore>().All.FirstOrDefault(k => k.Id == id);
            var scopes = principal.FindAll(ScopeClaim).Select(c => c.Value).Order(StringComparer.Ordinal);
            valid = key is { Scopes: { } current } && key.Status(now) == "active" && current.Order(StringComparer.Ordinal).SequenceEqual(scopes);
        }
        else
        {
            var fingerprint = principal?.FindFirst(BootstrapClaim)?.Value;
            valid = AdminKey(http) is { Length: > 0 } adminKey && fingerprint == Fingerprint(adminKey);
        }

        if (!valid)
        {
            context.RejectPrincipal();
            await http.SignOutAsync(Scheme);
        }
    }

    /// <summary>The page a key without the needed scope sees (status 403).</summary>
    internal static string DeniedPage(string name, string scope) => $"""
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not allowed · Gateway console</title></head>
        <body style="font-family:system-ui,sans-serif;margin:2rem">
        <h1>Not allowed</h1>
        <p id="denied">The key <strong>{WebUtility.HtmlEncode(name)}</strong> lacks the <code>{WebUtility.HtmlEncode(scope)}</code> scope this page needs.
        Ask an admin for a key with it.</p>
        <p><a href="/console">Back to the console</a></p>
        </body></html>
        """;

    private static string? AdminKey(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.AdminKey;

    private static string Fingerprint(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("console:" + key)))[..16];
}
