using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Gateway.AdminConsole.Pages;

[ConsoleAnonymous]
public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => Redirect(ConsoleAuth.SignInPath);

    public async Task<IActionResult> OnPostAsync()
    {
        await ConsoleAuth.SignOutAsync(HttpContext);
        return Redirect(ConsoleAuth.SignInPath);
    }
}
