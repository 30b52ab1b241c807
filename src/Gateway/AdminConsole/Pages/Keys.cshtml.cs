using Gateway.Admin;
using Gateway.Auth;
using Gateway.OpenAi;
using Gateway.Policies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Gateway.AdminConsole.Pages;

/// <summary>
/// Runtime keys: list, create (the secret is shown once, on the answer to the create or rotate, and never again),
/// change limits, rotate, revoke. The same store calls and the same validation as <c>/admin/keys</c>, audited with the
/// console user's key name.
/// </summary>
[ConsoleScope(AdminScopes.KeysWrite)]
public sealed class KeysModel(VirtualKeyStore store, ClientKeyStore staticKeys, IPolicyProvider policies, TimeProvider time,
    ILogger<VirtualKeyStore> logger) : PageModel
{
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Kind { get; set; }
    [BindProperty] public string? Team { get; set; }
    [BindProperty] public List<string> Scopes { get; set; } = [];
    [BindProperty] public int? RpmLimit { get; set; }
    [BindProperty] public long? TpmLimit { get; set; }
    [BindProperty] public string? Models { get; set; }
    [BindProperty] public decimal? DailyUsd { get; set; }
    [BindProperty] public decimal? MonthlyUsd { get; set; }
    [BindProperty] public DateOnly? Expires { get; set; }

    public IReadOnlyList<VirtualKey> Keys => store.All.OrderBy(k => k.RevokedAt is not null).ThenBy(k => k.Name, StringComparer.Ordinal).ToList();

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>A secret just created or rotated: on this one answer only.</summary>
    public (string Name, string Secret)? NewSecret { get; private set; }

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public string? Message { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostCreateAsync()
    {
        var admin = Kind == "admin";
        var request = new KeyRequest
        {
            Name = Name?.Trim(),
            Team = admin ? null : Team?.Trim(),
            Scopes = admin ? Scopes : null,
            RpmLimit = RpmLimit,
            TpmLimit = TpmLimit,
            Models = string.IsNullOrWhiteSpace(Models) ? null : Models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            ExpiresAt = Expires is { } day ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            Budget = DailyUsd is null && MonthlyUsd is null ? null : new KeyBudgetRequest { DailyUsd = DailyUsd, MonthlyUsd = MonthlyUsd, OnExceed = "reject" },
        };
        if (!TryValidate(request, creating: true))
        {
            return Page();
        }

        if (staticKeys.HasName(request.Name!))
        {
            Errors = [$"name: a key named '{request.Name}' is configured under Auth:Keys (names are unique)."];
            return Page();
        }

        var (key, secret) = await store.CreateAsync(request, HttpContext.GetAdminActor(), HttpContext.RequestAborted);
        Telemetry.Log.KeyChanged(logger, key.Id, key.Name, key.Team, "created", HttpContext.GetAdminActor());
        NewSecret = (key.Name, secret);
        ModelState.Clear();
        Name = Team = Models = null;
        return Page();
    }

    public async Task<IActionResult> OnPostLimitsAsync([FromForm] string id)
    {
        var request = new KeyRequest { RpmLimit = RpmLimit, TpmLimit = TpmLimit };
        if (!TryValidate(request, creating: false))
        {
            return Page();
        }

        var key = await store.UpdateAsync(id, request, new HashSet<string>(StringComparer.Ordinal) { "rpm_limit", "tpm_limit" }, HttpContext.GetAdminActor(), HttpContext.RequestAborted);
        Message = key is null ? $"Key {id} is unknown or revoked." : $"Limits of '{key.Name}' saved.";
        return Page();
    }

    public async Task<IActionResult> OnPostRotateAsync([FromForm] string id)
    {
        var rotated = await store.RotateAsync(id, TimeSpan.FromHours(1), HttpContext.GetAdminActor(), HttpContext.RequestAborted);
        if (rotated is not var (key, secret))
        {
            Message = $"Key {id} is unknown or revoked.";
            return Page();
        }

        Telemetry.Log.KeyChanged(logger, key.Id, key.Name, key.Team, "rotated", HttpContext.GetAdminActor());
        NewSecret = (key.Name, secret);
        Message = $"'{key.Name}' rotated: the old secret keeps working for one hour.";
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync([FromForm] string id, [FromForm] bool confirm)
    {
        if (!confirm)
        {
            Message = "Tick 'confirm' to revoke: a revoked key stops working at once and cannot be restored.";
            return Page();
        }

        var key = await store.RevokeAsync(id, HttpContext.GetAdminActor(), HttpContext.RequestAborted);
        if (key is not null)
        {
            Telemetry.Log.KeyChanged(logger, key.Id, key.Name, key.Team, "revoked", HttpContext.GetAdminActor());
        }

        Message = key is null ? $"Key {id} is unknown." : $"'{key.Name}' revoked.";
        return Page();
    }

    private bool TryValidate(KeyRequest request, bool creating)
    {
        try
        {
            KeyEndpoints.Validate(request, creating, time, policies);
            return true;
        }
        catch (OpenAiException ex)
        {
            Errors = ex.Errors is { Count: > 0 } all ? all : [ex.Message];
            return false;
        }
    }
}
