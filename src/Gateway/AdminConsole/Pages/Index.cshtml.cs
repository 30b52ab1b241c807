using Gateway.Admin;
using Gateway.Hosting;
using Gateway.Spend;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Gateway.AdminConsole.Pages;

/// <summary>What <c>GET /admin/status</c> answers, for any signed-in admin key, plus the ledger writer's state.</summary>
public sealed class StatusModel(LedgerWriter ledger, IOptions<LedgerOptions> ledgerOptions) : PageModel
{
    public AdminStatus Status { get; private set; } = null!;

    public int LedgerPending => ledger.Pending;

    public bool LedgerFull => ledger.BufferFull;

    public string LedgerProvider => ledgerOptions.Value.Provider;

    public void OnGet() => Status = AdminStatus.Of(HttpContext.RequestServices);
}
