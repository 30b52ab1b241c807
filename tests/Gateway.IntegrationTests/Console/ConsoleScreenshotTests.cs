using System.Net;
using System.Text;
using Gateway.IntegrationTests.Infrastructure;
using Gateway.Testing;
using Microsoft.Playwright;

namespace Gateway.IntegrationTests.Console;

/// <summary>
/// Every console page rendered in chromium with some traffic, a budget, a key and a document, captured as a PNG.
/// <c>docs/console-screenshots.sh</c> sets <c>GATEWAY_CONSOLE_SCREENSHOTS</c> to write them into <c>docs/console/</c>;
/// otherwise they go to a temporary folder and the test only checks that every page rendered.
/// </summary>
public sealed class ConsoleScreenshotTests : GatewayWithUpstream
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Ledger:Durability"] = "sync" };

    [SkippableFact]
    public async Task EveryPage_Renders_AndIsCaptured()
    {
        Skip.If(ConsoleBrowser.Missing, "chromium is not installed (.ci/run installs it; under CI=true a missing browser fails)");
        using var admin = Gateway.AdminClient();
        var policy = GatewayHost.DefaultPolicy + """

            budgets:
              research: { daily_usd: 0.05, monthly_usd: 2, on_exceed: reject }
              support: { daily_usd: 5, monthly_usd: 100, on_exceed: reject }
            """;
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/admin/policy", new StringContent(policy, Encoding.UTF8, "application/yaml"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/admin/keys", new StringContent(
            """{"name":"finance-reader","scopes":["spend:read"]}""", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/admin/keys", new StringContent(
            """{"name":"batch-jobs","team":"research","rpm_limit":120,"budget":{"daily_usd":1}}""", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/admin/knowledge/handbook/documents?title=Leave%20policy", new StringContent(
            "Every employee has 25 vacation days a year. Unused days carry over until March.", Encoding.UTF8, "text/markdown"))).StatusCode);
        foreach (var model in new[] { "auto", "small-model", "auto", "small-model", "auto" })
        {
            using var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
                $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Draft a short status update for the team."}]}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var folder = Environment.GetEnvironmentVariable("GATEWAY_CONSOLE_SCREENSHOTS") is { Length: > 0 } target
            ? Directory.CreateDirectory(target).FullName
            : TestFolders.Create("console-screenshots-").FullName;
        var (playwright, browser) = await ConsoleBrowser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } })).NewPageAsync();
        await page.GotoAsync($"{Gateway.BaseUrl}/console/signin");
        await Capture(page, folder, "signin");
        await ConsoleBrowser.SignInAsync(page, GatewayHost.AdminKey);

        foreach (var (name, path) in new[]
                 {
                     ("status", "/console"), ("spend", "/console/spend"), ("keys", "/console/keys"),
                     ("knowledge", "/console/knowledge?collection=handbook&query=How%20many%20vacation%20days%3F"), ("policy", "/console/policy"),
                 })
        {
            var response = await page.GotoAsync(Gateway.BaseUrl + path);
            Assert.Equal(200, response!.Status);
            await Capture(page, folder, name);
        }

        // The editor with an error at its line, and the review of a change.
        await page.FillAsync("#draft", GatewayHost.DefaultPolicy.Replace("input_per_mtok: 2.50", "input_per_mtok: -2.50", StringComparison.Ordinal));
        await ConsoleBrowser.SubmitAsync(page, "#validate");
        await Capture(page, folder, "policy-error");
        await page.FillAsync("#draft", policy.Replace("daily_usd: 0.05", "daily_usd: 0.10", StringComparison.Ordinal));
        await ConsoleBrowser.SubmitAsync(page, "#review-apply");
        await Capture(page, folder, "policy-review");
    }

    private static async Task Capture(IPage page, string folder, string name)
    {
        var file = Path.Combine(folder, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
        Assert.True(new FileInfo(file).Length > 5_000, $"{name}.png is suspiciously small");
    }
}
