using System.Globalization;
using System.Text;
using Gateway.Admin;
using Gateway.Auth;
using Gateway.Policies;
using Gateway.Spend;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Gateway.AdminConsole.Pages;

/// <summary>
/// Spend over a date range, grouped by what finance asks about, from the same ledger query as <c>GET /admin/spend</c>
/// (so the figures are equal to the nano-dollar), with a daily chart and the CSV of exactly the rows shown.
/// Dates are whole UTC days; <c>to</c> is inclusive.
/// </summary>
[ConsoleScope(AdminScopes.SpendRead)]
public sealed class SpendModel(SpendLedgerStore store, TimeProvider time, IPolicyProvider policies, VirtualKeyStore keys) : PageModel
{
    /// <summary>One budget in its current period: spent so far (from the ledger), and the straight-line forecast to the period's end.</summary>
    public sealed record BudgetLine(string Holder, string Period, decimal Limit, decimal Spent, decimal Forecast, DateTimeOffset PeriodEnd, DateTimeOffset? ExhaustedAt)
    {
        public decimal Used => Limit == 0 ? 1 : Spent / Limit;
    }

    public IReadOnlyList<BudgetLine> Budgets { get; private set; } = [];

    /// <summary>The group-by choices the page offers (the ledger knows a few more; the API takes them all).</summary>
    public static readonly string[] Choices = ["team", "route", "model", "key", "category", "day"];

    [BindProperty(SupportsGet = true)]
    public DateOnly? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public string[] Group { get; set; } = [];

    public string? Error { get; private set; }

    public SpendQuery Query { get; private set; } = null!;

    public IReadOnlyList<SpendTotals> Rows { get; private set; } = [];

    public SpendRow Total { get; private set; } = null!;

    public IReadOnlyList<SpendTotals> Days { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (Build() is { } problem)
        {
            Error = problem;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        Rows = await store.TotalsAsync(Query, HttpContext.RequestAborted);
        Total = SpendEndpoints.Row(SpendEndpoints.Sum(Rows));
        Days = Query.GroupBy is ["day"] ? Rows : await store.TotalsAsync(Query with { GroupBy = ["day"] }, HttpContext.RequestAborted);
        Budgets = await BudgetLinesAsync();
        return Page();
    }

    /// <summary>Every team budget of the policy and every runtime key's budget, in today's and this month's UTC periods.</summary>
    private async Task<IReadOnlyList<BudgetLine>> BudgetLinesAsync()
    {
        var all = policies.Current.Budgets.Values
            .Concat(keys.All.Where(k => k.Budget is not null && k.RevokedAt is null).Select(k => k.Budget!))
            .ToList();
        if (all.Count == 0)
        {
            return [];
        }

        var now = time.GetUtcNow();
        var dayStart = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        async Task<Dictionary<string, decimal>> SpentAsync(DateTimeOffset from, string dimension) =>
            (await store.TotalsAsync(new SpendQuery(from, now.AddSeconds(1), [dimension]), HttpContext.RequestAborted))
            .ToDictionary(r => r.Group[dimension], r => r.CostUsd, StringComparer.Ordinal);
        var spent = new Dictionary<(string, bool), Dictionary<string, decimal>>
        {
            [("team", true)] = await SpentAsync(dayStart, "team"),
            [("team", false)] = await SpentAsync(monthStart, "team"),
            [("key", true)] = await SpentAsync(dayStart, "key"),
            [("key", false)] = await SpentAsync(monthStart, "key"),
        };
        var lines = new List<BudgetLine>();
        foreach (var budget in all)
        {
            var dimension = budget.IsKeyBudget ? "key" : "team";
            var subject = budget.IsKeyBudget ? budget.Team[TeamBudget.KeyPrefix.Length..] : budget.Team;
            foreach (var (limit, daily) in new[] { (budget.DailyUsd, true), (budget.MonthlyUsd, false) })
            {
                if (limit is not { } cap)
                {
                    continue;
                }

                var start = daily ? dayStart : monthStart;
                var end = daily ? dayStart.AddDays(1) : monthStart.AddMonths(1);
                var used = spent[(dimension, daily)].GetValueOrDefault(subject);
                var elapsed = (decimal)Math.Max((now - start).TotalSeconds, 60);
                var rate = used / elapsed; // dollars per second so far
                var forecast = used + (rate * (decimal)(end - now).TotalSeconds);
                DateTimeOffset? exhausted = used >= cap ? now : rate > 0 && forecast > cap ? now.AddSeconds((double)((cap - used) / rate)) : null;
                lines.Add(new BudgetLine(budget.Holder, daily ? "today" : "this month", cap, used, forecast, end, exhausted));
            }
        }

        return lines;
    }

    /// <summary>The CSV <c>/admin/spend?format=csv</c> writes for the same range and grouping.</summary>
    public async Task<IActionResult> OnGetCsvAsync()
    {
        if (Build() is { } problem)
        {
            return BadRequest(problem);
        }

        var rows = await store.TotalsAsync(Query, HttpContext.RequestAborted);
        return File(Encoding.UTF8.GetBytes(SpendEndpoints.Csv(Query, rows)), "text/csv; charset=utf-8",
            $"spend-{Query.From:yyyyMMdd}-{Query.To:yyyyMMdd}.csv");
    }

    private string? Build()
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        From ??= new DateOnly(today.Year, today.Month, 1);
        To ??= today;
        Group = Group.Where(g => !string.IsNullOrWhiteSpace(g)).Distinct(StringComparer.Ordinal).ToArray();
        if (Group.Length == 0)
        {
            Group = ["team"];
        }

        if (Group.FirstOrDefault(g => !SpendLedgerStore.Dimensions.ContainsKey(g)) is { } unknown)
        {
            return $"Unknown group '{unknown}'.";
        }

        if (To < From)
        {
            return "'To' must be on or after 'From'.";
        }

        Query = new SpendQuery(Start(From.Value), Start(To.Value.AddDays(1)), Group);
        return null;
    }

    private static DateTimeOffset Start(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>The query string of this view, for the CSV link and the API link.</summary>
    public string QueryString(string? handler = null)
    {
        var parts = new List<string>();
        if (handler is not null)
        {
            parts.Add("handler=" + handler);
        }

        parts.Add("from=" + From!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        parts.Add("to=" + To!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        parts.AddRange(Group.Select(g => "group=" + Uri.EscapeDataString(g)));
        return "?" + string.Join('&', parts);
    }

    /// <summary>The equivalent API call (same rows): what a finance script would fetch.</summary>
    public string ApiUrl => string.Create(CultureInfo.InvariantCulture,
        $"/admin/spend?from={Query.From:yyyy-MM-dd}&to={Query.To:yyyy-MM-dd}&group_by={string.Join(',', Group)}");

    /// <summary>Dollars for reading: cents for amounts of a dollar or more, up to six decimals below (test traffic costs fractions of a cent).</summary>
    public static string Money(decimal usd) =>
        Math.Abs(usd) >= 1 ? usd.ToString("$#,0.00", CultureInfo.InvariantCulture) : usd.ToString("$0.00####", CultureInfo.InvariantCulture);

    public static string Exact(decimal usd) => usd.ToString(CultureInfo.InvariantCulture);

    public static string Count(long n) => n.ToString("#,0", CultureInfo.InvariantCulture);
}
