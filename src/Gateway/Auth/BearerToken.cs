namespace Gateway.Auth;

internal static class BearerToken
{
    /// <summary>The token of an <c>Authorization: Bearer</c> header, or empty.</summary>
    public static ReadOnlySpan<char> Read(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString().AsSpan().Trim();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : [];
    }
}
