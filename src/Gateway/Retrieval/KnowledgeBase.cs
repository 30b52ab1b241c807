using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Gateway.Hosting;
using Microsoft.Extensions.Caching.Memory;

namespace Gateway.Retrieval;

public sealed record KnowledgeDocument(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("source")] string? Source,
    [property: JsonPropertyName("chunks")] int Chunks,
    [property: JsonPropertyName("characters")] int Characters,
    [property: JsonPropertyName("ingested_at")] DateTimeOffset IngestedAt);

public sealed record KnowledgeChunk(string DocumentId, int Ordinal, string Title, string? Source, string Text, float[] Embedding);

public sealed record RetrievedChunk(KnowledgeChunk Chunk, float Score);

/// <summary>
/// Knowledge collections: documents chunked and embedded at ingestion, persisted in the gateway's
/// database (chunks with their embeddings), searched in memory by exact cosine similarity.
/// Re-ingesting a document id replaces its chunks. Query embeddings are cached (bounded), so the
/// policy's retrieval-relevance probe and the local route's retrieval embed a prompt once.
/// </summary>
public sealed class KnowledgeBase(GatewayDatabase database, MiniLmEmbedder embedder, TimeProvider timeProvider) : IDisposable
{
    /// <summary>Schema step 3: knowledge documents and their embedded chunks.</summary>
    internal static readonly SchemaMigration[] Migrations = [new(3, "knowledge", (change, ct) => change.ExecuteAsync(Schema, ct))];

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS knowledge_documents (
            collection TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, source TEXT,
            chunks INTEGER NOT NULL, characters INTEGER NOT NULL, ingested_at TEXT NOT NULL,
            PRIMARY KEY (collection, id));
        CREATE TABLE IF NOT EXISTS knowledge_chunks (
            collection TEXT NOT NULL, document_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
            text TEXT NOT NULL, embedding {blob} NOT NULL,
            PRIMARY KEY (collection, document_id, ordinal));
        """;

    private readonly ConcurrentDictionary<string, KnowledgeChunk[]> _collections = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly MemoryCache _queries = new(new MemoryCacheOptions { SizeLimit = 2_000 });
    public async Task<KnowledgeDocument> IngestAsync(string collection, string id, string title, string? source, string text, CancellationToken cancellationToken)
    {
        var pieces = Chunker.Split(text, embedder.CountTokens);
        var chunks = pieces.Select((piece, i) => new KnowledgeChunk(id, i, title, source, piece, embedder.Embed(piece))).ToArray();
        var document = new KnowledgeDocument(id, title, source, chunks.Length, text.Length, timeProvider.GetUtcNow());

        await _writes.WaitAsync(cancellationToken);
        try
        {
            var current = await LoadAsync(collection, cancellationToken);
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await DeleteRowsAsync(connection, transaction, collection, id, cancellationToken);
            await using (var insert = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO knowledge_documents (collection, id, title, source, chunks, characters, ingested_at) VALUES (@c, @id, @title, @source, @chunks, @chars, @at);";
                insert.With("@c", collection).With("@id", id).With("@title", title).With("@source", source)
                    .With("@chunks", chunks.Length).With("@chars", text.Length)
                    .With("@at", document.IngestedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            foreach (var chunk in chunks)
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO knowledge_chunks (collection, document_id, ordinal, text, embedding) VALUES (@c, @id, @o, @text, @e);";
                insert.With("@c", collection).With("@id", id).With("@o", chunk.Ordinal).With("@text", chunk.Text)
                    .With("@e", MemoryMarshal.AsBytes(chunk.Embedding.AsSpan()).ToArray());
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            _collections[collection] = [.. current.Where(c => c.DocumentId != id), .. chunks];
            return document;
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task<bool> DeleteAsync(string collection, string id, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            var current = await LoadAsync(collection, cancellationToken);
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var deleted = await DeleteRowsAsync(connection, transaction, collection, id, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            _collections[collection] = [.. current.Where(c => c.DocumentId != id)];
            return deleted;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>The collection's documents, or null when it has none (an unknown collection).</summary>
    public async Task<IReadOnlyList<KnowledgeDocument>?> ListAsync(string collection, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, title, source, chunks, characters, ingested_at FROM knowledge_documents WHERE collection = @c ORDER BY id;";
        command.With("@c", collection);
        var documents = new List<KnowledgeDocument>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            documents.Add(new KnowledgeDocument(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture)));
        }

        return documents.Count == 0 ? null : documents;
    }

    /// <summary>The query's embedding, from the cache when this text was embedded recently.</summary>
    public float[] EmbedQuery(string query) =>
        _queries.GetOrCreate(query, entry =>
        {
            entry.Size = 1;
            return embedder.Embed(query);
        })!;

    /// <summary>The <paramref name="topK"/> most similar chunks with a cosine of at least <paramref name="minScore"/>, best first.</summary>
    public async Task<IReadOnlyList<RetrievedChunk>> SearchAsync(string collection, string query, int topK, float minScore, CancellationToken cancellationToken)
    {
        var chunks = await LoadAsync(collection, cancellationToken);
        return chunks.Length == 0 || string.IsNullOrWhiteSpace(query) ? [] : Search(chunks, EmbedQuery(query), topK, minScore);
    }

    internal static IReadOnlyList<RetrievedChunk> Search(KnowledgeChunk[] chunks, float[] query, int topK, float minScore)
    {
        var best = new List<RetrievedChunk>(topK + 1);
        foreach (var chunk in chunks)
        {
            var score = System.Numerics.Tensors.TensorPrimitives.Dot(chunk.Embedding, query);
            if (score < minScore || (best.Count == topK && score <= best[^1].Score))
            {
                continue;
            }

            // Insertion into the few best so far; a plain loop (a lambda capturing score would allocate per chunk).
            var at = best.Count;
            while (at > 0 && best[at - 1].Score < score)
            {
                at--;
            }

            best.Insert(at, new RetrievedChunk(chunk, score));
            if (best.Count > topK)
            {
                best.RemoveAt(best.Count - 1);
            }
        }

        return best;
    }

    private async Task<KnowledgeChunk[]> LoadAsync(string collection, CancellationToken cancellationToken)
    {
        if (_collections.TryGetValue(collection, out var loaded))
        {
            return loaded;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT c.document_id, c.ordinal, d.title, d.source, c.text, c.embedding
            FROM knowledge_chunks c JOIN knowledge_documents d ON d.collection = c.collection AND d.id = c.document_id
            WHERE c.collection = @c ORDER BY c.document_id, c.ordinal;
            """;
        command.With("@c", collection);
        var chunks = new List<KnowledgeChunk>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var bytes = (byte[])reader.GetValue(5);
                chunks.Add(new KnowledgeChunk(reader.GetString(0), Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), MemoryMarshal.Cast<byte, float>(bytes).ToArray()));
            }
        }

        return _collections.GetOrAdd(collection, [.. chunks]);
    }

    private static async Task<bool> DeleteRowsAsync(DbConnection connection, DbTransaction transaction, string collection, string id, CancellationToken cancellationToken)
    {
        await using var chunks = connection.CreateCommand();
        chunks.Transaction = transaction;
        chunks.CommandText = "DELETE FROM knowledge_chunks WHERE collection = @c AND document_id = @id;";
        chunks.With("@c", collection).With("@id", id);
        await chunks.ExecuteNonQueryAsync(cancellationToken);
        await using var document = connection.CreateCommand();
        document.Transaction = transaction;
        document.CommandText = "DELETE FROM knowledge_documents WHERE collection = @c AND id = @id;";
        document.With("@c", collection).With("@id", id);
        return await document.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public void Dispose()
    {
        _queries.Dispose();
        _writes.Dispose();
    }
}
