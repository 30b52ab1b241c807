using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Gateway.AdminConsole.Pages;

[ConsoleAnonymous]
public sealed class SignInModel : PageModel
{
    public string? Error { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? key)
    {
        var identity = string.IsNullOrWhiteSpace(key) ? null : ConsoleAuth.Resolve(HttpContext, key);
        if (identity is null)
        {
            Error = "That is not an admin key of this gateway (client keys cannot sign in).";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        await ConsoleAuth.SignInAsync(HttpContext, identity);
        // Only back into the console: never to another site.
        return LocalRedirect(ReturnUrl is { } back && back.StartsWith("/console", StringComparison.Ordinal) && !back.StartsWith("//", StringComparison.Ordinal) ? back : "/console");
    }
}
