using System.Security.Cryptography;
using System.Text;
using Gateway.Auth;
using Gateway.Policies;
using Gateway.Retrieval;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Gateway.AdminConsole.Pages;

/// <summary>
/// Knowledge collections: the ones the policy's local routes read, their documents (upload text or Markdown,
/// delete), and a search box that shows the passages and scores a local route would be given (the route's top-k and
/// minimum score, <c>Retrieval:*</c>).
/// </summary>
[ConsoleScope(AdminScopes.KnowledgeWrite)]
public sealed class KnowledgeModel(KnowledgeBase knowledge, IPolicyProvider policies, IOptions<RetrievalOptions> retrieval) : PageModel
{
    /// <summary>Largest upload: the API's limit.</summary>
    public const int MaxBytes = Admin.KnowledgeEndpoints.MaxDocumentBytes;

    [BindProperty(SupportsGet = true)]
    public string? Collection { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Query { get; set; }

    [BindProperty]
    public string? Title { get; set; }

    [BindProperty]
    public string? Text { get; set; }

    [BindProperty]
    public IFormFile? Upload { get; set; }

    /// <summary>Collections named by the policy's routes, with the routes that read them.</summary>
    public IReadOnlyList<(string Name, string Routes)> Named => policies.Current.Routes.Where(r => r.Knowledge is not null)
        .GroupBy(r => r.Knowledge!, StringComparer.Ordinal)
        .Select(g => (g.Key, string.Join(", ", g.Select(r => r.Name)))).OrderBy(c => c.Key, StringComparer.Ordinal).ToList();

    public IReadOnlyList<KnowledgeDocument>? Documents { get; private set; }

    public IReadOnlyList<RetrievedChunk>? Results { get; private set; }

    public RetrievalOptions Retrieval => retrieval.Value;

    public string? Message { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync()
    {
        Collection ??= Named.FirstOrDefault().Name;
        await LoadAsync();
        if (Collection is not null && !string.IsNullOrWhiteSpace(Query) && Error is null)
        {
            Results = await knowledge.SearchAsync(Collection, Query, Retrieval.TopK, Retrieval.MinScore, HttpContext.RequestAborted);
        }
    }

    public async Task<IActionResult> OnPostUploadAsync()
    {
        var text = Text;
        var title = Title;
        if (Upload is { Length: > 0 } file)
        {
            if (file.Length > MaxBytes)
            {
                return await Failed($"'{file.FileName}' is {file.Length:N0} bytes; the limit is {MaxBytes:N0}.");
            }

            using var reader = new StreamReader(file.OpenReadStream(), new UTF8Encoding(false, throwOnInvalidBytes: true));
            try
            {
                text = await reader.ReadToEndAsync(HttpContext.RequestAborted);
            }
            catch (DecoderFallbackException)
            {
                return await Failed($"'{file.FileName}' is not UTF-8 text. Upload text or Markdown (convert PDFs and office files first).");
            }

            title = string.IsNullOrWhiteSpace(title) ? Path.GetFileNameWithoutExtension(file.FileName) : title;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return await Failed("The document is empty: choose a file or paste its text.");
        }

        if (text.Contains('\0'))
        {
            return await Failed("The document looks binary. Upload text or Markdown.");
        }

        if (Collection is null || !KnowledgeCollections.IsValidName(Collection))
        {
            return await Failed($"Collection names are {KnowledgeCollections.NameRule}.");
        }

        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
        var document = await knowledge.IngestAsync(Collection, id, string.IsNullOrWhiteSpace(title) ? id : title.Trim(), "console", text, HttpContext.RequestAborted);
        Message = $"'{document.Title}' added to {Collection}: {document.Chunks} passages.";
        Text = Title = null;
        ModelState.Clear();
        await LoadAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync([FromForm] string id)
    {
        Message = Collection is not null && await knowledge.DeleteAsync(Collection, id, HttpContext.RequestAborted)
            ? $"Document {id} deleted from {Collection}."
            : $"{Collection} has no document {id}.";
        await LoadAsync();
        return Page();
    }

    private async Task<IActionResult> Failed(string error)
    {
        Error = error;
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync()
    {
        if (Collection is null)
        {
            return;
        }

        if (!KnowledgeCollections.IsValidName(Collection))
        {
            Error ??= $"Collection names are {KnowledgeCollections.NameRule}.";
            return;
        }

        Documents = await knowledge.ListAsync(Collection, HttpContext.RequestAborted) ?? [];
    }
}
