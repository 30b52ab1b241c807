using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace Gateway.IntegrationTests.Console;

/// <summary>
/// The console at <c>/console</c> in a real browser against a real gateway and a loopback upstream: sign-in, spend
/// (equal to <c>/admin/spend</c>, CSV included), the policy editor (errors at their lines, review, apply, rollback,
/// seen live on <c>/v1</c>), scopes, sessions and anti-forgery.
/// </summary>
public sealed partial class ConsoleTests : GatewayWithUpstream
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        // Each served request is committed before its response completes: the ledger is complete when the test reads it.
        ["Ledger:Durability"] = "sync",
    };

    private static string Today => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Tomorrow => DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private async Task ServeTrafficAsync()
    {
        using var other = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
        other.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.OtherTeamKey);
        foreach (var (client, model) in new[] { (Gateway.Client, "auto"), (Gateway.Client, "small-model"), (Gateway.Client, "auto"), (other, "small-model") })
        {
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
                $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Summarise the quarterly report in three bullet points."}]}""",
                Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [SkippableFact]
    public async Task SignIn_ThenSpend_EqualsAdminSpend_AndTheCsvIsTheApis()
    {
        Skip.If(ConsoleBrowser.Missing, "chromium is not installed (.ci/run installs it; under CI=true a missing browser fails)");
        using (var put = await Gateway.AdminClient().PutAsync("/admin/policy", new StringContent(
                   GatewayHost.DefaultPolicy + "\nbudgets:\n  research: { daily_usd: 10, monthly_usd: 100, on_exceed: reject }\n", Encoding.UTF8, "application/yaml")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        await ServeTrafficAsync();
        var (playwright, browser) = await ConsoleBrowser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { AcceptDownloads = true });
        var page = await context.NewPageAsync();

        // A stranger is sent to sign in, and back to the page asked for afterwards.
        await page.GotoAsync($"{Gateway.BaseUrl}/console/spend?from={Today}&to={Today}");
        Assert.Contains("/console/signin", page.Url, StringComparison.Ordinal);
        await ConsoleBrowser.SignInAsync(page, "not-a-key");
        Assert.Contains("not an admin key", await page.InnerTextAsync("#sign-in-error"), StringComparison.Ordinal);
        await ConsoleBrowser.SignInAsync(page, GatewayHost.ClientKey);
        Assert.Contains("not an admin key", await page.InnerTextAsync("#sign-in-error"), StringComparison.Ordinal);
        await ConsoleBrowser.SignInAsync(page, GatewayHost.AdminKey);
        Assert.Contains("/console/spend", page.Url, StringComparison.Ordinal);

        // The session cookie: HttpOnly, SameSite=Strict, and no key in it or on the page.
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "gw_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(GatewayHost.AdminKey, cookie.Value, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayHost.AdminKey, await page.ContentAsync(), StringComparison.Ordinal);

        // Grouped by team (the default): every row and the total equal the API's, to the nano-dollar.
        using var admin = Gateway.AdminClient();
        var api = JsonNode.Parse(await admin.GetStringAsync($"/admin/spend?from={Today}&to={Tomorrow}&group_by=team"))!;
        var shown = await ShownRowsAsync(page, "team");
        Assert.Equal(2, shown.Count);
        foreach (var row in api["rows"]!.AsArray())
        {
            Assert.Equal(row!["cost_usd"]!.GetValue<decimal>(), shown[row["group"]!["team"]!.GetValue<string>()].Cost);
            Assert.Equal(row["requests"]!.GetValue<long>(), shown[row["group"]!["team"]!.GetValue<string>()].Requests);
            Assert.Equal(row["saved_usd"]!.GetValue<decimal>(), shown[row["group"]!["team"]!.GetValue<string>()].Saved);
        }

        Assert.Equal(api["total"]!["cost_usd"]!.GetValue<decimal>(), decimal.Parse(await page.GetAttributeAsync("#total-cost", "data-usd") ?? "", CultureInfo.InvariantCulture));
        Assert.True(api["total"]!["cost_usd"]!.GetValue<decimal>() > 0);
        Assert.Equal(1, await page.Locator("#daily-chart g[data-day]").CountAsync());

        // The team's budgets, spent so far from the same ledger.
        var researchToday = decimal.Parse(await page.GetAttributeAsync("#budgets tr[data-holder=\"Team 'research'\"][data-period='today'] td[data-col=spent]", "data-usd") ?? "",
            CultureInfo.InvariantCulture);
        Assert.Equal(shown["research"].Cost, researchToday);
        Assert.Equal(2, await page.Locator("#budgets tbody tr").CountAsync());

        // The CSV download is byte for byte what the API writes for the same range and grouping.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-csv"));
        var csv = await File.ReadAllTextAsync(await download.PathAsync());
        Assert.Equal(await admin.GetStringAsync($"/admin/spend?from={Today}&to={Tomorrow}&group_by=team&format=csv"), csv);

        // Another grouping through the form.
        await page.UncheckAsync("input[name=group][value=team]");
        await page.CheckAsync("input[name=group][value=model]");
        await ConsoleBrowser.SubmitAsync(page, "#apply-filter");
        var byModel = await ShownRowsAsync(page, "model");
        var apiByModel = JsonNode.Parse(await admin.GetStringAsync($"/admin/spend?from={Today}&to={Tomorrow}&group_by=model"))!["rows"]!.AsArray();
        Assert.Equal(apiByModel.Count, byModel.Count);
        foreach (var row in apiByModel)
        {
            Assert.Equal(row!["cost_usd"]!.GetValue<decimal>(), byModel[row["group"]!["model"]!.GetValue<string>()].Cost);
        }

        // A range with no traffic shows none.
        await page.GotoAsync($"{Gateway.BaseUrl}/console/spend?from=2020-01-01&to=2020-01-31");
        Assert.True(await page.IsVisibleAsync("#no-spend"));

        // Sign-out ends the session.
        await page.GotoAsync($"{Gateway.BaseUrl}/console");
        await ConsoleBrowser.SubmitAsync(page, "#sign-out");
        await page.GotoAsync($"{Gateway.BaseUrl}/console/spend");
        Assert.Contains("/console/signin", page.Url, StringComparison.Ordinal);
    }

    private static async Task<Dictionary<string, (decimal Cost, long Requests, decimal Saved)>> ShownRowsAsync(IPage page, string group)
    {
        var rows = new Dictionary<string, (decimal, long, decimal)>(StringComparer.Ordinal);
        foreach (var row in await page.Locator("#spend-rows tbody tr").AllAsync())
        {
            var name = await row.Locator($"td[data-group={group}]").InnerTextAsync();
            var cost = decimal.Parse(await row.Locator("td[data-col=cost]").GetAttributeAsync("data-usd") ?? "", CultureInfo.InvariantCulture);
            var saved = decimal.Parse(await row.Locator("td[data-col=saved]").GetAttributeAsync("data-usd") ?? "", CultureInfo.InvariantCulture);
            var requests = long.Parse((await row.Locator("td[data-col=requests]").InnerTextAsync()).Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
            rows[name] = (cost, requests, saved);
        }

        return rows;
    }

    [SkippableFact]
    public async Task Policy_AnErrorShowsAtItsLine_TheFixIsReviewedAppliedAndLive_ThenRolledBack()
    {
        Skip.If(ConsoleBrowser.Missing, "chromium is not installed (.ci/run installs it; under CI=true a missing browser fails)");
        var (playwright, browser) = await ConsoleBrowser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await (await browser.NewContextAsync()).NewPageAsync();
        await page.GotoAsync($"{Gateway.BaseUrl}/console/policy");
        await ConsoleBrowser.SignInAsync(page, GatewayHost.AdminKey);
        var original = await page.InnerTextAsync("#live-version");
        Assert.Equal(original, await ServedPolicyVersionAsync());
        Assert.Equal(GatewayHost.DefaultPolicy, await page.InputValueAsync("#draft"));

        // An error: shown with its path, at its line, and nothing applied.
        var broken = GatewayHost.DefaultPolicy.Replace("input_per_mtok: 2.50", "input_per_mtok: -2.50", StringComparison.Ordinal);
        var brokenLine = broken.Split('\n').ToList().FindIndex(l => l.Contains("-2.50", StringComparison.Ordinal)) + 1;
        await page.FillAsync("#draft", broken);
        await ConsoleBrowser.SubmitAsync(page, "#validate");
        var error = page.Locator("#policy-errors li[data-path='routes.frontier.price.input_per_mtok']");
        Assert.Equal(brokenLine.ToString(CultureInfo.InvariantCulture), await error.GetAttributeAsync("data-line"));
        Assert.Contains("must be >= 0", await error.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("error", await page.GetAttributeAsync($"#line-{brokenLine}", "class") ?? "", StringComparison.Ordinal);
        Assert.Equal(broken, await page.InputValueAsync("#draft")); // the draft is kept for fixing
        await ConsoleBrowser.SubmitAsync(page, "#review-apply"); // review refuses an invalid draft too
        Assert.Equal(0, await page.Locator("#confirm-apply").CountAsync());
        Assert.Equal(original, await ServedPolicyVersionAsync());

        // Explain a prompt against the draft, before anything is applied.
        var fixedDraft = GatewayHost.DefaultPolicy.Replace("input_per_mtok: 2.50", "input_per_mtok: 3.00", StringComparison.Ordinal);
        await page.FillAsync("#draft", fixedDraft);
        await page.FillAsync("#sample-prompt", "Write a Python function that reverses a linked list.");
        await ConsoleBrowser.SubmitAsync(page, "#explain");
        Assert.Equal("frontier", await page.InnerTextAsync("#explain-route"));
        Assert.False(string.IsNullOrEmpty(await page.InnerTextAsync("#explain-category")));

        // The fix: reviewed (diff, simulation), confirmed, live on /v1.
        await ConsoleBrowser.SubmitAsync(page, "#review-apply");
        var diff = await page.InnerTextAsync("#diff");
        Assert.Contains("input_per_mtok: 3.00", diff, StringComparison.Ordinal);
        Assert.Contains("input_per_mtok: 2.50", diff, StringComparison.Ordinal);
        var reviewed = await page.InnerTextAsync("#draft-version");
        Assert.Equal(original, await ServedPolicyVersionAsync());
        await ConsoleBrowser.SubmitAsync(page, "#confirm-apply");
        Assert.Contains($"Applied: version {reviewed} is live", await page.InnerTextAsync("#policy-message"), StringComparison.Ordinal);
        Assert.Equal(reviewed, await page.InnerTextAsync("#live-version"));
        Assert.Equal(reviewed, await ServedPolicyVersionAsync());
        var history = JsonNode.Parse(await Gateway.AdminClient().GetStringAsync("/admin/policy/history"))!["entries"]!.AsArray();
        Assert.Equal("console", history[0]!["source"]!.GetValue<string>());

        // Rollback: the old version is reviewed against the live one, then applied.
        await ConsoleBrowser.SubmitAsync(page, $"#history tr[data-version='{original}'] button.rollback");
        Assert.Equal(original, await page.InnerTextAsync("#draft-version"));
        await ConsoleBrowser.SubmitAsync(page, "#confirm-apply");
        Assert.Equal(original, await page.InnerTextAsync("#live-version"));
        Assert.Equal(original, await ServedPolicyVersionAsync());
    }

    [SkippableFact]
    public async Task Keys_CreatedWithTheSecretShownOnce_Rotated_AndRevoked_WorkOnV1AsShown()
    {
        Skip.If(ConsoleBrowser.Missing, "chromium is not installed (.ci/run installs it; under CI=true a missing browser fails)");
        var (playwright, browser) = await ConsoleBrowser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await (await browser.NewContextAsync()).NewPageAsync();
        await page.GotoAsync($"{Gateway.BaseUrl}/console/keys");
        await ConsoleBrowser.SignInAsync(page, GatewayHost.AdminKey);

        // A bad request shows its errors and creates nothing.
        await page.FillAsync("#new-name", "ops-admin");
        await page.CheckAsync("#new-admin");
        await ConsoleBrowser.SubmitAsync(page, "#create");
        Assert.Contains("scopes", await page.InnerTextAsync("#key-errors"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#keys tr[data-key='ops-admin']").CountAsync());

        await page.FillAsync("#new-name", "ci-bot");
        await page.CheckAsync("input[name=Kind][value=client]");
        await page.FillAsync("#new-team", "research");
        await page.FillAsync("input[name=RpmLimit]", "600");
        await ConsoleBrowser.SubmitAsync(page, "#create");
        var secret = await page.InnerTextAsync("#new-secret");
        Assert.StartsWith("sk-gw-", secret, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(secret));
        var created = Assert.Single(JsonNode.Parse(await Gateway.AdminClient().GetStringAsync("/admin/keys"))!["data"]!.AsArray());
        Assert.Equal(600, created!["rpm_limit"]!.GetValue<int>());
        Assert.Equal("research", created["team"]!.GetValue<string>());

        // Shown once: not on the next visit.
        await page.GotoAsync($"{Gateway.BaseUrl}/console/keys");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        var row = "#keys tr[data-key='ci-bot']";

        await ConsoleBrowser.SubmitAsync(page, $"{row} button.rotate");
        var rotated = await page.InnerTextAsync("#new-secret");
        Assert.NotEqual(secret, rotated);
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(rotated));

        // Revoke asks for a confirmation; then the key stops working at once.
        await ConsoleBrowser.SubmitAsync(page, $"{row} button.revoke");
        Assert.Contains("confirm", await page.InnerTextAsync("#keys-message"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(rotated));
        await page.CheckAsync($"{row} input.confirm-revoke");
        await ConsoleBrowser.SubmitAsync(page, $"{row} button.revoke");
        Assert.Equal("revoked", await page.InnerTextAsync($"{row} .pill"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ChatAsync(rotated));
    }

    private async Task<HttpStatusCode> ChatAsync(string key)
    {
        using var client = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"auto","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    [SkippableFact]
    public async Task Knowledge_UploadPasteSearchDelete_MatchesTheApi()
    {
        Skip.If(ConsoleBrowser.Missing, "chromium is not installed (.ci/run installs it; under CI=true a missing browser fails)");
        var (playwright, browser) = await ConsoleBrowser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await (await browser.NewContextAsync()).NewPageAsync();
        await page.GotoAsync($"{Gateway.BaseUrl}/console/knowledge?collection=handbook");
        await ConsoleBrowser.SignInAsync(page, GatewayHost.AdminKey);
        Assert.Equal(0, await page.Locator("#documents tbody tr").CountAsync());

        var file = Path.Combine(Path.GetTempPath(), $"leave-policy-{Guid.NewGuid():N}.md");
        await File.WriteAllTextAsync(file, "# Leave policy\n\nEvery employee has 25 vacation days a year. Unused vacation days carry over until March.\n");
        try
        {
            await page.SetInputFilesAsync("#doc-file", file);
            await ConsoleBrowser.SubmitAsync(page, "#upload");
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Contains("added to handbook", await page.InnerTextAsync("#knowledge-message"), StringComparison.Ordinal);
        await page.FillAsync("#doc-title", "Expenses");
        await page.FillAsync("#doc-text", "Travel expenses are reimbursed within 30 days when the receipt is attached.");
        await ConsoleBrowser.SubmitAsync(page, "#upload");
        Assert.Equal(2, await page.Locator("#documents tbody tr").CountAsync());

        using var admin = Gateway.AdminClient();
        var listed = JsonNode.Parse(await admin.GetStringAsync("/admin/knowledge/handbook/documents"))!["documents"]!.AsArray()
            .Select(d => d!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        var shown = new List<string>();
        foreach (var tr in await page.Locator("#documents tbody tr").AllAsync())
        {
            shown.Add(await tr.GetAttributeAsync("data-id") ?? "");
        }

        Assert.Equal(listed, shown.Order(StringComparer.Ordinal).ToList());

        // The search shows the passage a local route would be given, with its score.
        await page.FillAsync("#query", "How many vacation days do I get?");
        await ConsoleBrowser.SubmitAsync(page, "#search");
        var first = await page.InnerTextAsync("#results tr:first-child");
        Assert.Contains("25 vacation days", first, StringComparison.Ordinal);

        var expenses = await page.Locator("#documents tbody tr", new() { HasText = "Expenses" }).GetAttributeAsync("data-id");
        await ConsoleBrowser.SubmitAsync(page, $"#documents tr[data-id='{expenses}'] button.delete");
        Assert.Equal(1, await page.Locator("#documents tbody tr").CountAsync());
        Assert.Single(JsonNode.Parse(await admin.GetStringAsync("/admin/knowledge/handbook/documents"))!["documents"]!.AsArray());
    }

    /// <summary>The policy version a real <c>/v1</c> request is served under.</summary>
    private async Task<string> ServedPolicyVersionAsync()
    {
        using var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"auto","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("x-gateway-policy-version").Single();
    }

    [SkippableFact]
    public async Task ASpendReadKey_SeesSpend_ButNotThePolicyEditor()
    {
        Skip.If(ConsoleBrowser.Missing, "chromium is not installed (.ci/run installs it; under CI=true a missing browser fails)");
        var finance = await CreateKeyAsync("""{"name":"finance","scopes":["spend:read"]}""");
        var (playwright, browser) = await ConsoleBrowser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await (await browser.NewContextAsync()).NewPageAsync();
        await page.GotoAsync($"{Gateway.BaseUrl}/console");
        await ConsoleBrowser.SignInAsync(page, finance.Secret);
        Assert.Equal("finance", await page.InnerTextAsync("#signed-in-as"));
        Assert.Equal(1, await page.Locator("nav a[href='/console/spend']").CountAsync());
        Assert.Equal(0, await page.Locator("nav a[href='/console/policy']").CountAsync());

        var response = await page.GotoAsync($"{Gateway.BaseUrl}/console/policy");
        Assert.Equal(403, response!.Status);
        Assert.Contains("policy:write", await page.InnerTextAsync("#denied"), StringComparison.Ordinal);
        response = await page.GotoAsync($"{Gateway.BaseUrl}/console/spend");
        Assert.Equal(200, response!.Status);
    }

    [Fact]
    public async Task FormsWithoutTheAntiForgeryToken_AreRefused()
    {
        var (client, _) = await SignedInClientAsync(Gateway.BaseUrl, GatewayHost.AdminKey);
        using (client)
        {
            // Signed in, but a cross-site form post carries the cookie without the page's token.
            var before = await ServedPolicyVersionAsync();
            using var apply = await client.PostAsync("/console/policy?handler=Apply", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Draft"] = GatewayHost.DefaultPolicy.Replace("2.50", "9.00", StringComparison.Ordinal),
                ["BaseVersion"] = before,
            }));
            Assert.Equal(HttpStatusCode.BadRequest, apply.StatusCode);
            Assert.Equal(before, await ServedPolicyVersionAsync());
        }

        using var stranger = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(Gateway.BaseUrl) };
        using var signIn = await stranger.PostAsync("/console/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = GatewayHost.AdminKey }));
        Assert.Equal(HttpStatusCode.BadRequest, signIn.StatusCode);
        Assert.False(signIn.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("gw_console=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RevokingTheKey_EndsItsSession_AtTheNextPage()
    {
        var key = await CreateKeyAsync("""{"name":"ops","scopes":["admin"]}""");
        var (client, _) = await SignedInClientAsync(Gateway.BaseUrl, key.Secret);
        using (client)
        {
            using (var status = await client.GetAsync("/console"))
            {
                Assert.Equal(HttpStatusCode.OK, status.StatusCode);
                Assert.DoesNotContain(key.Secret, await status.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using var admin = Gateway.AdminClient();
            Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/admin/keys/{key.Id}")).StatusCode);
            using var after = await client.GetAsync("/console");
            Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
            Assert.StartsWith("/console/signin", after.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
    }

    private async Task<(string Id, string Secret)> CreateKeyAsync(string body)
    {
        using var admin = Gateway.AdminClient();
        using var response = await admin.PostAsync("/admin/keys", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (json["id"]!.GetValue<string>(), json["key"]!.GetValue<string>());
    }

    /// <summary>A plain HTTP client signed in through the form (token included), cookies kept, redirects not followed.</summary>
    internal static async Task<(HttpClient Client, CookieContainer Cookies)> SignedInClientAsync(string baseUrl, string key)
    {
        var cookies = new CookieContainer();
        var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };
        var form = await client.GetStringAsync("/console/signin");
        var token = TokenField().Match(form).Groups[1].Value;
        using var response = await client.PostAsync("/console/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = key,
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return (client, cookies);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
