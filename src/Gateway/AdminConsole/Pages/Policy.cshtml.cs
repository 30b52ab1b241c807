using System.Text.Json;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Gateway.Auth;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Gateway.AdminConsole.Pages;

/// <summary>
/// The routing policy: the live document, an editor whose validation errors point at their lines, explain a sample
/// prompt against the draft, review (diff against the live version and a simulation on recorded traffic) before
/// applying, and the history with rollback (which goes through the same review). Applies go through the same
/// <see cref="FilePolicyProvider.ApplyAsync"/> as <c>PUT /admin/policy</c>: validated, written, audited with the actor.
/// </summary>
[ConsoleScope(AdminScopes.PolicyWrite)]
public sealed class PolicyModel(
    FilePolicyProvider provider,
    PolicyLoader loader,
    PolicyAuditStore audit,
    RequestPlanner planner,
    PolicySimulator simulator,
    SimulationLog simulations,
    IOptions<PolicyOptions> policyOptions,
    TimeProvider time) : PageModel
{
    public enum Stage
    {
        Edit,
        Review,
        Applied,
    }

    /// <summary>The document in the editor: the live one on a first visit, the admin's draft after a post.</summary>
    [BindProperty]
    public string? Draft { get; set; }

    /// <summary>The live version the draft was reviewed against (an apply on a changed live policy is refused).</summary>
    [BindProperty]
    public string? BaseVersion { get; set; }

    [BindProperty]
    public string? SimulationId { get; set; }

    [BindProperty]
    public string? Prompt { get; set; }

    public Stage Step { get; private set; } = Stage.Edit;

    public RoutingPolicy Live => provider.Current;

    public string FilePath => provider.FilePath;

    public bool Validated { get; private set; }

    public IReadOnlyList<PolicyErrorLine> Errors { get; private set; } = [];

    public IReadOnlyList<string> Warnings { get; private set; } = [];

    public string? Message { get; private set; }

    public string? DraftVersion { get; private set; }

    public IReadOnlyList<DiffPiece> Diff { get; private set; } = [];

    public SimulationResult? Simulation { get; private set; }

    public string? SimulationProblem { get; private set; }

    public PlannedRequest? Explained { get; private set; }

    public DecisionTrace? ExplainTrace { get; private set; }

    public IReadOnlyList<PolicyAuditEntry> History { get; private set; } = [];

    public bool SimulationRequired => policyOptions.Value.RequireSimulation;

    public async Task OnGetAsync()
    {
        Draft = Live.Document;
        await LoadHistoryAsync();
    }

    public async Task<IActionResult> OnPostValidateAsync()
    {
        var result = Check();
        if (result.Policy is not null)
        {
            Message = $"Valid: it would be version {result.Policy.Version}.";
        }

        await LoadHistoryAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostExplainAsync()
    {
        var result = Check();
        if (result.Policy is not null && !string.IsNullOrWhiteSpace(Prompt))
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["model"] = "auto",
                ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = Prompt } },
            });
            using var request = OpenAiRequest.Parse(OpenAiOperation.ChatCompletions, body);
            ExplainTrace = new DecisionTrace();
            Explained = await planner.PlanAsync(result.Policy, request, "console", "console", null, ExplainTrace, HttpContext.RequestAborted);
        }
        else if (result.Policy is not null)
        {
            Message = "Type a sample prompt to explain.";
        }

        await LoadHistoryAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostReviewAsync() => await ReviewAsync();

    /// <summary>Rollback is a review of the old document: the admin sees the diff against what is live before applying it.</summary>
    public async Task<IActionResult> OnPostRollbackAsync([FromForm] string version)
    {
        Draft = await audit.DocumentAsync(version, HttpContext.RequestAborted);
        if (Draft is null)
        {
            Message = $"Version {version} is not in the history.";
            Draft = Live.Document;
            await LoadHistoryAsync();
            return Page();
        }

        return await ReviewAsync();
    }

    public async Task<IActionResult> OnPostApplyAsync()
    {
        var before = Live.Version;
        if (BaseVersion != before)
        {
            Message = $"The live policy changed (now {before}) since you reviewed this draft: review it again.";
            return await ReviewAsync();
        }

        var result = Check();
        if (result.Policy is null)
        {
            await LoadHistoryAsync();
            return Page();
        }

        var evidence = SimulationId is { Length: > 0 } id ? simulations.Find(id, result.Policy.Version) : null;
        if (evidence is null && SimulationRequired)
        {
            Message = "This gateway applies a policy only after a simulation of it (Policies:RequireSimulation): review it again so it is simulated.";
            return await ReviewAsync();
        }

        PolicyLoadResult applied;
        try
        {
            applied = await provider.ApplyAsync(Draft!, HttpContext.GetAdminActor(), "console", HttpContext.RequestAborted, evidence);
        }
        catch (PolicyWriteException ex)
        {
            Message = $"The policy file cannot be written: {ex.Message}";
            await LoadHistoryAsync();
            return Page();
        }

        if (applied.Policy is null)
        {
            Errors = PolicyErrorLines.Locate(Draft!, applied.Errors);
            await LoadHistoryAsync();
            return Page();
        }

        Step = Stage.Applied;
        Message = applied.Policy.Version == before ? $"Nothing changed: version {before} is live." : $"Applied: version {applied.Policy.Version} is live (was {before}).";
        Warnings = applied.Warnings ?? [];
        Draft = Live.Document;
        await LoadHistoryAsync();
        return Page();
    }

    private async Task<IActionResult> ReviewAsync()
    {
        var result = Check();
        if (result.Policy is { } draft)
        {
            Step = Stage.Review;
            BaseVersion = Live.Version;
            Diff = InlineDiffBuilder.Diff(Live.Document, Draft!, ignoreWhiteSpace: false).Lines;
            var now = time.GetUtcNow();
            try
            {
                Simulation = await simulator.RunAsync(draft, now.AddDays(-7), now.AddSeconds(1), null, HttpContext.RequestAborted);
                SimulationId = simulations.Record(Simulation, null);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.Data.Common.DbException or OpenAiException)
            {
                SimulationProblem = ex.Message;
                SimulationId = null;
            }
        }

        await LoadHistoryAsync();
        return Page();
    }

    private PolicyLoadResult Check()
    {
        Draft ??= "";
        // Browsers post textarea lines with CR LF; the document on disk keeps the LF it was written with.
        Draft = Draft.Replace("\r\n", "\n", StringComparison.Ordinal);
        var result = loader.Load(Draft);
        Validated = true;
        Errors = result.Policy is null ? PolicyErrorLines.Locate(Draft, result.Errors) : [];
        Warnings = result.Warnings ?? [];
        DraftVersion = result.Policy?.Version;
        return result;
    }

    private async Task LoadHistoryAsync() => History = await audit.HistoryAsync(20, HttpContext.RequestAborted);

    /// <summary>The draft's lines with their numbers, for showing where errors are.</summary>
    public IEnumerable<(int Number, string Text, bool Error)> Lines()
    {
        var bad = Errors.Select(e => e.Line).ToHashSet();
        var lines = (Draft ?? "").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            yield return (i + 1, lines[i], bad.Contains(i + 1));
        }
    }
}
