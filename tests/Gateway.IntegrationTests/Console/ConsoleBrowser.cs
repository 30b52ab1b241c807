using Microsoft.Playwright;

namespace Gateway.IntegrationTests.Console;

/// <summary>
/// Headless Debian chromium driven by Playwright (the browser is never downloaded: <c>.ci/run</c> installs the
/// distribution's package and this points Playwright at it). <c>GATEWAY_TEST_CHROMIUM</c> overrides the path.
/// </summary>
public static class ConsoleBrowser
{
    public static string? ExecutablePath =>
        new[] { Environment.GetEnvironmentVariable("GATEWAY_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    /// <summary>Skip the browser tests on a developer machine without chromium; never under CI, where that is a failure.</summary>
    public static bool Missing => ExecutablePath is null && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var path = ExecutablePath ?? throw new InvalidOperationException("No chromium: apt-get install chromium (or set GATEWAY_TEST_CHROMIUM).");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = path,
                Headless = true,
                // Containers run CI as root, where chromium's sandbox cannot start.
                Args = ["--no-sandbox", "--disable-dev-shm-usage"],
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Signs in on the page's sign-in form with <paramref name="key"/> and waits for the page it returns to.</summary>
    public static async Task SignInAsync(IPage page, string key)
    {
        await page.FillAsync("#key", key);
        await SubmitAsync(page, "#sign-in");
    }

    /// <summary>
    /// Clicks a submit button and waits until the form's answer is the page: the old document is marked, and the wait
    /// ends when a document without the mark has loaded (the same URL may come back, so the URL cannot tell).
    /// </summary>
    public static async Task SubmitAsync(IPage page, string selector)
    {
        await page.EvaluateAsync("() => { window.__beforeSubmit = true; }");
        await page.ClickAsync(selector);
        await page.WaitForFunctionAsync("() => window.__beforeSubmit !== true && document.readyState !== 'loading'");
    }
}
