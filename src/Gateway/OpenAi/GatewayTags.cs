using System.Text.RegularExpressions;

namespace Gateway.OpenAi;

/// <summary>
/// The <c>x-gateway-tags</c> request header: up to 10 comma-separated tags (1-64 letters, digits, <c>. _ : -</c>) that
/// the ledger records with the request, for finance to total spend by project, feature or experiment.
/// </summary>
public static partial class GatewayTags
{
    public const string Header = "x-gateway-tags";
    public const int MaxTags = 10;

    /// <summary>The tags sorted and comma-joined, or null when the header is absent or empty.</summary>
    /// <exception cref="OpenAiException">400 naming the header when a tag is malformed or there are too many.</exception>
    public static string? Read(IHeaderDictionary headers)
    {
        if (!headers.TryGetValue(Header, out var values) || values.Count == 0)
        {
            return null;
        }

        var tags = values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (tags.Length > MaxTags || tags.Any(t => !Tag().IsMatch(t)))
        {
            throw OpenAiErrors.InvalidParameter(Header,
                $"Invalid '{Header}' header: up to {MaxTags} comma-separated tags, each 1-64 letters, digits, '.', '_', ':' or '-'.");
        }

        return tags.Length == 0 ? null : string.Join(',', tags);
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex Tag();
}
