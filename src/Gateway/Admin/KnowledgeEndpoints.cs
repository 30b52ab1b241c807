using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.OpenAi;
using Gateway.Retrieval;

namespace Gateway.Admin;

/// <summary>
/// <c>/admin/knowledge/{collection}/documents</c>: ingest (JSON <c>{id, title, source, text}</c>, or a
/// text/Markdown body with <c>?id=&amp;title=&amp;source=</c>), list, delete. Re-ingesting an id replaces it.
/// </summary>
internal static class KnowledgeEndpoints
{
    /// <summary>Largest document accepted (2 MiB of text).</summary>
    public const int MaxDocumentBytes = 2 * 1024 * 1024;

    public static void MapKnowledgeAdmin(this RouteGroupBuilder admin)
    {
        var documents = admin.MapGroup("/knowledge/{collection}/documents");

        documents.MapPost("", async (string collection, HttpContext http, KnowledgeBase knowledge, string? id, string? title, string? source) =>
        {
            CheckCollection(collection);
            var body = await RequestBodyReader.ReadAsync(http, MaxDocumentBytes, http.RequestAborted);
            var (text, docId, docTitle, docSource) = Read(http.Request.ContentType, body, id, title, source);
            var document = await knowledge.IngestAsync(collection, docId, docTitle, docSource, text, http.RequestAborted);
            return TypedResults.Created($"/admin/knowledge/{collection}/documents/{Uri.EscapeDataString(document.Id)}", document);
        });

        documents.MapGet("", async (string collection, KnowledgeBase knowledge, HttpContext http) =>
        {
            CheckCollection(collection);
            var listed = await knowledge.ListAsync(collection, http.RequestAborted) ?? throw UnknownCollection(collection);
            return TypedResults.Ok(new { collection, documents = listed });
        });

        documents.MapDelete("/{id}", async (string collection, string id, KnowledgeBase knowledge, HttpContext http) =>
        {
            CheckCollection(collection);
            return await knowledge.DeleteAsync(collection, id, http.RequestAborted)
                ? Results.NoContent()
                : throw new OpenAiException(404, $"Collection '{collection}' has no document '{id}'.", OpenAiErrors.InvalidRequest, "document_not_found", "id");
        });
    }

    private static (string Text, string Id, string Title, string? Source) Read(string? contentType, ReadOnlyMemory<byte> body, string? id, string? title, string? source)
    {
        string? text;
        if (contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var json = JsonBody.Parse(body);
            var root = json.RootElement;
            string? Field(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            text = Field("text");
            id = Field("id") ?? id;
            title = Field("title") ?? title;
            source = Field("source") ?? source;
        }
        else
        {
            text = Decode(body);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw OpenAiErrors.InvalidParameter("text", "The document is empty: send its text (JSON field 'text', or a text/plain or text/markdown body).");
        }

        if (text.Contains('\0') || text.Count(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')) > text.Length / 100)
        {
            throw OpenAiErrors.InvalidParameter("text", "The document looks binary. Send text or Markdown (convert PDFs and office files to text first).");
        }

        id = string.IsNullOrWhiteSpace(id) ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16] : id.Trim();
        return (text, id, string.IsNullOrWhiteSpace(title) ? id : title.Trim(), string.IsNullOrWhiteSpace(source) ? null : source.Trim());
    }

    private static string Decode(ReadOnlyMemory<byte> body)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body.Span);
        }
        catch (DecoderFallbackException)
        {
            throw OpenAiErrors.InvalidParameter("text", "The document is not valid UTF-8 text. Send text or Markdown.");
        }
    }

    private static void CheckCollection(string collection)
    {
        if (!KnowledgeCollections.IsValidName(collection))
        {
            throw OpenAiErrors.InvalidParameter("collection", $"Collection names are {KnowledgeCollections.NameRule}.");
        }
    }

    private static OpenAiException UnknownCollection(string collection) =>
        new(404, $"Knowledge collection '{collection}' has no documents.", OpenAiErrors.InvalidRequest, "collection_not_found", "collection");
}
