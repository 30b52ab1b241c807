using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using CsvHelper;
using Gateway.OpenAi;
using Gateway.Spend;

namespace Gateway.Admin;

/// <summary><c>GET /admin/spend</c>: totals from the ledger, to the cent, as JSON or a CSV a spreadsheet opens as it is.</summary>
internal static class SpendEndpoints
{
    public static void MapSpendAdmin(this RouteGroupBuilder admin) =>
        admin.MapGet("/spend", async (HttpContext http, SpendLedgerStore store, TimeProvider time, string? from, string? to, string? group_by, string? format) =>
        {
            var now = time.GetUtcNow();
            var query = new SpendQuery(
                Parse(from, "from") ?? new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero),
                Parse(to, "to") ?? now.AddSeconds(1),
                Dimensions(group_by ?? "team,route,model"))
            {
                // team=, route=, model=, key=, user=, operation=, tag= narrow the rows before grouping.
                Where = SpendLedgerStore.Filters.Keys
                    .Where(name => http.Request.Query.ContainsKey(name) && !string.IsNullOrEmpty(http.Request.Query[name]))
                    .ToDictionary(name => name, name => http.Request.Query[name].ToString(), StringComparer.Ordinal),
            };
            if (query.To <= query.From)
            {
                throw OpenAiErrors.InvalidParameter("to", "'to' must be after 'from'.");
            }

            var rows = await store.TotalsAsync(query, http.RequestAborted);
            switch (format ?? "json")
            {
                case "json":
                    await http.Response.WriteAsJsonAsync(new SpendReport(query.From, query.To, query.GroupBy, rows.Select(Row).ToArray(), Row(Sum(rows))), http.RequestAborted);
                    return;
                case "csv":
                    http.Response.ContentType = "text/csv; charset=utf-8";
                    http.Response.Headers.ContentDisposition = $"attachment; filename=\"spend-{query.From:yyyyMMdd}-{query.To:yyyyMMdd}.csv\"";
                    await http.Response.WriteAsync(Csv(query, rows), Encoding.UTF8, http.RequestAborted);
                    return;
                default:
                    throw OpenAiErrors.InvalidParameter("format", "'format' must be json or csv.");
            }
        });

    internal static DateTimeOffset? Parse(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : throw OpenAiErrors.InvalidParameter(name, $"'{name}' must be an ISO 8601 date or time (2026-11-01 or 2026-11-01T00:00:00Z); times without an offset are UTC.");
    }

    internal static string[] Dimensions(string groupBy)
    {
        var names = groupBy.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => !SpendLedgerStore.Dimensions.ContainsKey(n)).ToArray();
        if (unknown.Length > 0)
        {
            throw OpenAiErrors.InvalidParameter("group_by",
                $"Unknown group_by '{string.Join(", ", unknown)}'; use any of {string.Join(", ", SpendLedgerStore.Dimensions.Keys)} (comma-separated) or none.");
        }

        return names.Distinct(StringComparer.Ordinal).ToArray();
    }

    internal static SpendTotals Sum(IReadOnlyList<SpendTotals> rows) => new(
        new Dictionary<string, string>(),
        rows.Sum(r => r.Requests), rows.Sum(r => r.FailedRequests), rows.Sum(r => r.PromptTokens), rows.Sum(r => r.CompletionTokens),
        rows.Sum(r => r.CachedPromptTokens), rows.Sum(r => r.EstimatedUsageRequests), rows.Sum(r => r.CostUsd), rows.Sum(r => r.CounterfactualCostUsd),
        rows.Sum(r => r.QualityChangeSum), rows.Sum(r => r.QualityRows));

    internal static SpendRow Row(SpendTotals t) => new(t.Group, t.Requests, t.FailedRequests, t.PromptTokens, t.CompletionTokens,
        t.CachedPromptTokens, t.EstimatedUsageRequests, t.CostUsd, t.CounterfactualCostUsd, t.SavedUsd, t.ExpectedQualityChange);

    internal static string Csv(SpendQuery query, IReadOnlyList<SpendTotals> rows)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, options: null, leaveOpen: true))
        {
            csv.WriteHeader([.. query.GroupBy, .. Columns]);
            foreach (var row in rows)
            {
                foreach (var dimension in query.GroupBy)
                {
                    csv.WriteField(row.Group[dimension]);
                }

                // Numbers are written as numbers (invariant, no separators), so a spreadsheet reads them as such.
                csv.WriteField(row.Requests, "");
                csv.WriteField(row.FailedRequests, "");
                csv.WriteField(row.PromptTokens, "");
                csv.WriteField(row.CompletionTokens, "");
                csv.WriteField(row.CachedPromptTokens, "");
                csv.WriteField(row.EstimatedUsageRequests, "");
                csv.WriteField(row.CostUsd, MoneyFormat);
                csv.WriteField(row.CounterfactualCostUsd, MoneyFormat);
                csv.WriteField(row.SavedUsd, MoneyFormat);
                csv.WriteField(row.ExpectedQualityChange, "");
                csv.EndRecord();
            }
        }

        return text.ToString();
    }

    /// <summary>Every digit the ledger holds (nano-dollars); no currency symbol, no thousands separator.</summary>
    private const string MoneyFormat = "0.#########";

    private static readonly string[] Columns =
        ["requests", "failed_requests", "prompt_tokens", "completion_tokens", "cached_prompt_tokens", "estimated_usage_requests", "cost_usd", "counterfactual_cost_usd", "saved_usd", "expected_quality_change"];
}

public sealed record SpendRow(
    [property: JsonPropertyName("group")] IReadOnlyDictionary<string, string> Group,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("failed_requests")] long FailedRequests,
    [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
    [property: JsonPropertyName("completion_tokens")] long CompletionTokens,
    [property: JsonPropertyName("cached_prompt_tokens")] long CachedPromptTokens,
    [property: JsonPropertyName("estimated_usage_requests")] long EstimatedUsageRequests,
    [property: JsonPropertyName("cost_usd")] decimal CostUsd,
    [property: JsonPropertyName("counterfactual_cost_usd")] decimal CounterfactualCostUsd,
    [property: JsonPropertyName("saved_usd")] decimal SavedUsd,
    [property: JsonPropertyName("expected_quality_change")] double? ExpectedQualityChange);

public sealed record SpendReport(
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("group_by")] IReadOnlyList<string> GroupBy,
    [property: JsonPropertyName("rows")] IReadOnlyList<SpendRow> Rows,
    [property: JsonPropertyName("total")] SpendRow Total);
