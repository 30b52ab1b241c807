using System.Collections.Frozen;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Auth;

/// <summary>A client key created through <c>/admin/keys</c>: what the gateway knows of it, never its secret.</summary>
public sealed record VirtualKey(
    string Id,
    string Name,
    string Team,
    string? Owner,
    IReadOnlyDictionary<string, string>? Metadata,
    IReadOnlyList<string>? Models,
    int? RpmLimit,
    long? TpmLimit,
    string Prefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? PreviousValidUntil,
    IReadOnlyList<string>? Scopes = null,
    Policies.TeamBudget? Budget = null)
{
    /// <summary>An admin key (it has scopes): it may call <c>/admin</c> within them, and not <c>/v1</c>.</summary>
    public bool IsAdmin => Scopes is not null;

    public string Status(DateTimeOffset now) => RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "active";
}

/// <summary>One change to a key, for the audit log.</summary>
public sealed record KeyAuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string KeyId, string Detail);

/// <summary>
/// Keys created at runtime, in the gateway's database (shared by replicas). Secrets are stored only as a keyed hash
/// (HMAC-SHA256 with a secret from <c>Auth:KeyHashSecret</c>, or one generated once and kept in the database so every
/// replica agrees), and looked up in memory: every replica reloads the table when it changes (polled every
/// <c>Auth:KeyRefreshInterval</c>, 1 s by default), so a revocation reaches all of them within about a second.
/// </summary>
public sealed class VirtualKeyStore(GatewayDatabase database, IOptions<AuthOptions> options, TimeProvider timeProvider)
{
    public const string SecretPrefix = "sk-gw-";

    /// <summary>Schema steps 4 and 6: runtime keys, their audit, and the settings table holding the shared hashing secret (<c>scopes</c> came a release later).</summary>
    internal static readonly SchemaMigration[] Migrations =
    [
        new(4, "client_keys", async (change, ct) =>
        {
            await change.ExecuteAsync(Schema, ct);
            await change.AddColumnAsync("client_keys", "scopes", "TEXT", ct);
        }),
        new(6, "client_keys.budget", (change, ct) => change.ExecuteAsync("ALTER TABLE client_keys ADD COLUMN budget TEXT", ct)),
    ];

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS client_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            team TEXT NOT NULL,
            owner TEXT,
            metadata TEXT,
            models TEXT,
            rpm_limit BIGINT,
            tpm_limit BIGINT,
            secret_hash TEXT NOT NULL UNIQUE,
            previous_hash TEXT,
            previous_valid_until TEXT,
            prefix TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            expires_at TEXT,
            revoked_at TEXT,
            scopes TEXT);
        CREATE TABLE IF NOT EXISTS client_key_audit (
            id {identity},
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            key_id TEXT NOT NULL,
            detail TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS gateway_settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL);
        """;

    private const string Columns = "id, name, team, owner, metadata, models, rpm_limit, tpm_limit, secret_hash, previous_hash, previous_valid_until, prefix, created_at, updated_at, expires_at, revoked_at, scopes, budget";

    private volatile Snapshot _snapshot = Snapshot.Empty;
    private byte[]? _pepper;

    /// <summary>Changes whenever the set of keys does: identities cached per connection are resolved again.</summary>
    public int Version => _snapshot.Version;

    public int Count => _snapshot.Count;

    /// <summary>
    /// The key whose secret is <paramref name="secret"/>, if it is active now (or is a rotated-out secret still within its
    /// grace period), with the time it stops being valid.
    /// </summary>
    public (VirtualKey Key, DateTimeOffset? ValidUntil)? Find(ReadOnlySpan<char> secret)
    {
        var snapshot = _snapshot;
        if (snapshot.Count == 0 || _pepper is not { } pepper || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var hash = Hash(pepper, secret);
        var now = timeProvider.GetUtcNow();
        if (snapshot.ByHash.TryGetValue(hash, out var key))
        {
            return key.RevokedAt is null && !(key.ExpiresAt <= now) ? (key, key.ExpiresAt) : null;
        }

        if (snapshot.ByPreviousHash.TryGetValue(hash, out key) && key.RevokedAt is null && key.PreviousValidUntil > now && !(key.ExpiresAt <= now))
        {
            return (key, key.ExpiresAt is { } expires && expires < key.PreviousValidUntil ? expires : key.PreviousValidUntil);
        }

        return null;
    }

    public IReadOnlyList<VirtualKey> All => _snapshot.Keys;

    public VirtualKey? this[string id] => _snapshot.ById.GetValueOrDefault(id);

    /// <summary>Creates the tables and the hashing secret if needed, and loads every key.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ReloadAsync(connection, cancellationToken);
    }

    private readonly SemaphoreSlim _missRefresh = new(1, 1);
    private long _missRefreshes;

    /// <summary>
    /// A secret of ours that is not in memory may have been created on another replica since the last poll: reload now
    /// rather than refuse it for up to a poll interval. One miss's reload at a time; a miss is settled by any such reload
    /// that started after it arrived, so a burst of misses (or of made-up keys) costs one small query at a time, never a
    /// pile of them. Look the key up again afterwards, whatever this found: the poll may have loaded it in between.
    /// </summary>
    public async Task RefreshForMissAsync(CancellationToken cancellationToken)
    {
        var seen = Interlocked.Read(ref _missRefreshes);
        await _missRefresh.WaitAsync(cancellationToken);
        try
        {
            if (Interlocked.Read(ref _missRefreshes) == seen)
            {
                Interlocked.Increment(ref _missRefreshes);
                await RefreshAsync(cancellationToken);
            }
        }
        finally
        {
            _missRefresh.Release();
        }
    }

    /// <summary>Reloads when the table changed since the last load (another replica wrote it).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*), MAX(updated_at) FROM client_keys;";
        await using (var reader = await probe.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            var stamp = (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
            if (stamp == _snapshot.Stamp)
            {
                return;
            }
        }

        await ReloadAsync(connection, cancellationToken);
    }

    /// <summary>Creates a key; the secret is returned here and never again.</summary>
    public async Task<(VirtualKey Key, string Secret)> CreateAsync(KeyRequest request, string actor, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var secret = NewSecret();
        var id = "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = $"""
                INSERT INTO client_keys (id, name, team, owner, metadata, models, rpm_limit, tpm_limit, secret_hash, prefix, created_at, updated_at, expires_at, scopes, budget)
                VALUES (@id, @name, @team, @owner, @metadata, @models, @rpm, @tpm, @hash, @prefix, @now, @now, @expires, @scopes, @budget);
                """;
            insert.With("@id", id).With("@name", request.Name).With("@team", request.Team ?? "").With("@owner", request.Owner)
                .With("@scopes", Json(request.Scopes)).With("@budget", Json(request.Budget))
                .With("@metadata", Json(request.Metadata)).With("@models", Json(request.Models))
                .With("@rpm", (long?)request.RpmLimit).With("@tpm", request.TpmLimit)
                .With("@hash", Hash(_pepper!, secret)).With("@prefix", secret[..(SecretPrefix.Length + 4)])
                .With("@now", Text(now)).With("@expires", Text(request.ExpiresAt));
            try
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (DbException ex) when (IsUniqueViolation(ex))
            {
                throw OpenAi.OpenAiErrors.InvalidParameter("name", $"A key named '{request.Name}' already exists (names are unique: the ledger records spend by key name).");
            }
        }

        await AuditAsync(connection, transaction, now, actor, "create", id, request, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await ReloadAsync(connection, cancellationToken);
        return (_snapshot.ById[id], secret);
    }

    /// <summary>Changes the fields <paramref name="request"/> carries (<paramref name="present"/>); null when there is no such key.</summary>
    public async Task<VirtualKey?> UpdateAsync(string id, KeyRequest request, IReadOnlySet<string> present, string actor, CancellationToken cancellationToken)
    {
        var sets = new List<string>();
        var now = timeProvider.GetUtcNow();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var update = connection.CreateCommand();
        update.Transaction = transaction;
        void Set(string field, string column, object? value)
        {
            if (present.Contains(field))
            {
                sets.Add($"{column} = @{column}");
                update.With("@" + column, value);
            }
        }

        Set("team", "team", request.Team);
        Set("owner", "owner", request.Owner);
        Set("metadata", "metadata", Json(request.Metadata));
        Set("models", "models", Json(request.Models));
        Set("rpm_limit", "rpm_limit", (long?)request.RpmLimit);
        Set("tpm_limit", "tpm_limit", request.TpmLimit);
        Set("expires_at", "expires_at", Text(request.ExpiresAt));
        Set("scopes", "scopes", Json(request.Scopes));
        Set("budget", "budget", Json(request.Budget));
        update.CommandText = $"UPDATE client_keys SET {string.Join(", ", [.. sets, "updated_at = @now"])} WHERE id = @id AND revoked_at IS NULL;";
        update.With("@now", Text(now)).With("@id", id);
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return null;
        }

        await AuditAsync(connection, transaction, now, actor, "update", id, request, cancellationToken, present);
        await transaction.CommitAsync(cancellationToken);
        await ReloadAsync(connection, cancellationToken);
        return _snapshot.ById[id];
    }

    /// <summary>A new secret; the old one keeps working for <paramref name="grace"/>. Null when there is no such active key.</summary>
    public async Task<(VirtualKey Key, string Secret)?> RotateAsync(string id, TimeSpan grace, string actor, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var secret = NewSecret();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = """
                UPDATE client_keys SET previous_hash = secret_hash, previous_valid_until = @until, secret_hash = @hash, prefix = @prefix, updated_at = @now
                WHERE id = @id AND revoked_at IS NULL;
                """;
            update.With("@until", Text(now + grace)).With("@hash", Hash(_pepper!, secret)).With("@prefix", secret[..(SecretPrefix.Length + 4)])
                .With("@now", Text(now)).With("@id", id);
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return null;
            }
        }

        await AuditAsync(connection, transaction, now, actor, "rotate", id, new { grace_seconds = (long)grace.TotalSeconds }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await ReloadAsync(connection, cancellationToken);
        return (_snapshot.ById[id], secret);
    }

    /// <summary>Revokes the key and any rotated-out secret at once. Null when there is no such key.</summary>
    public async Task<VirtualKey?> RevokeAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE client_keys SET revoked_at = COALESCE(revoked_at, @now), previous_hash = NULL, previous_valid_until = NULL, updated_at = @now WHERE id = @id;";
            update.With("@now", Text(now)).With("@id", id);
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return null;
            }
        }

        await AuditAsync(connection, transaction, now, actor, "revoke", id, new { }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await ReloadAsync(connection, cancellationToken);
        return _snapshot.ById[id];
    }

    /// <summary>Newest first.</summary>
    public async Task<IReadOnlyList<KeyAuditEntry>> AuditLogAsync(string? keyId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = keyId is null
            ? "SELECT id, at, actor, action, key_id, detail FROM client_key_audit ORDER BY id DESC LIMIT @limit;"
            : "SELECT id, at, actor, action, key_id, detail FROM client_key_audit WHERE key_id = @key ORDER BY id DESC LIMIT @limit;";
        command.With("@limit", limit).With("@key", keyId);
        var entries = new List<KeyAuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new KeyAuditEntry(reader.GetInt64(0), Parse(reader.GetString(1)), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)));
        }

        return entries;
    }

    private async Task AuditAsync(DbConnection connection, DbTransaction transaction, DateTimeOffset at, string actor, string action, string id, object detail,
        CancellationToken cancellationToken, IReadOnlySet<string>? fields = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO client_key_audit (at, actor, action, key_id, detail) VALUES (@at, @actor, @action, @key, @detail);";
        var json = detail is KeyRequest request ? request.ToAuditJson(fields) : JsonSerializer.Serialize(detail);
        command.With("@at", Text(at)).With("@actor", actor).With("@action", action).With("@key", id).With("@detail", json);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private readonly SemaphoreSlim _reload = new(1, 1);

    /// <summary>
    /// Reads the table and puts it in memory, one reload at a time: two at once (the poll's, and a write's or a miss's)
    /// could finish out of order and leave the older table in memory, a revoked key usable until the next poll.
    /// </summary>
    private async Task ReloadAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken);
        try
        {
            await ReadAllAsync(connection, cancellationToken);
        }
        finally
        {
            _reload.Release();
        }
    }

    private async Task ReadAllAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM client_keys ORDER BY created_at, id;";
        var keys = new List<VirtualKey>();
        var byHash = new Dictionary<string, VirtualKey>(StringComparer.Ordinal);
        var byPrevious = new Dictionary<string, VirtualKey>(StringComparer.Ordinal);
        string? latest = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                string? Optional(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                var key = new VirtualKey(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), Optional(3),
                    Optional(4) is { } metadata ? JsonSerializer.Deserialize<Dictionary<string, string>>(metadata) : null,
                    Optional(5) is { } models ? JsonSerializer.Deserialize<List<string>>(models) : null,
                    reader.IsDBNull(6) ? null : (int)reader.GetInt64(6),
                    reader.IsDBNull(7) ? null : reader.GetInt64(7),
                    reader.GetString(11), Parse(reader.GetString(12)), Parse(reader.GetString(13)),
                    ParseOptional(Optional(14)), ParseOptional(Optional(15)), ParseOptional(Optional(10)),
                    Optional(16) is { } scopes ? JsonSerializer.Deserialize<List<string>>(scopes) : null,
                    Optional(17) is { } budget ? JsonSerializer.Deserialize<KeyBudgetRequest>(budget)!.ToBudget(reader.GetString(1)) : null);
                keys.Add(key);
                byHash[reader.GetString(8)] = key;
                if (Optional(9) is { } previous)
                {
                    byPrevious[previous] = key;
                }

                var updated = reader.GetString(13);
                latest = latest is null || string.CompareOrdinal(updated, latest) > 0 ? updated : latest;
            }
        }

        _snapshot = new Snapshot(keys, byHash.ToFrozenDictionary(StringComparer.Ordinal), byPrevious.ToFrozenDictionary(StringComparer.Ordinal),
            keys.ToFrozenDictionary(k => k.Id, StringComparer.Ordinal), _snapshot.Version + 1, (keys.Count, latest));
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken);
        if (_pepper is null)
        {
            _pepper = options.Value.KeyHashSecret is { Length: > 0 } configured
                ? Encoding.UTF8.GetBytes(configured)
                : Convert.FromBase64String(await SharedSecretAsync(connection, cancellationToken));
        }

        return connection;
    }

    /// <summary>The hashing secret every replica on this database uses: written once by whichever replica comes first.</summary>
    private async Task<string> SharedSecretAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using (var insert = connection.CreateCommand())
        {
            insert.CommandText = database.IsPostgres
                ? "INSERT INTO gateway_settings (name, value) VALUES ('key_hash_secret', @value) ON CONFLICT (name) DO NOTHING;"
                : "INSERT OR IGNORE INTO gateway_settings (name, value) VALUES ('key_hash_secret', @value);";
            insert.With("@value", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT value FROM gateway_settings WHERE name = 'key_hash_secret';";
        return (string)(await select.ExecuteScalarAsync(cancellationToken))!;
    }

    private static string NewSecret() => SecretPrefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Hash(byte[] pepper, ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = secret.Length <= 256 ? stackalloc byte[secret.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(secret.Length)];
        var written = Encoding.UTF8.GetBytes(secret, utf8);
        Span<byte> digest = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(pepper, utf8[..written], digest);
        return Convert.ToHexStringLower(digest);
    }

    private static bool IsUniqueViolation(DbException ex) =>
        ex is Npgsql.PostgresException { SqlState: "23505" } || (ex is Microsoft.Data.Sqlite.SqliteException sqlite && sqlite.SqliteExtendedErrorCode is 2067 or 1555);

    private static string? Json<T>(T? value) where T : class => value is null ? null : JsonSerializer.Serialize(value);

    private static string? Text(DateTimeOffset? at) => at?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static DateTimeOffset? ParseOptional(string? text) => text is null ? null : Parse(text);

    private sealed record Snapshot(
        IReadOnlyList<VirtualKey> Keys,
        FrozenDictionary<string, VirtualKey> ByHash,
        FrozenDictionary<string, VirtualKey> ByPreviousHash,
        FrozenDictionary<string, VirtualKey> ById,
        int Version,
        (long Count, string? Latest) Stamp)
    {
        public static Snapshot Empty { get; } = new([], FrozenDictionary<string, VirtualKey>.Empty, FrozenDictionary<string, VirtualKey>.Empty,
            FrozenDictionary<string, VirtualKey>.Empty, 0, (-1, null));

        public int Count => ByHash.Count;
    }
}

/// <summary>Loads the keys before the gateway serves, then keeps every replica's copy current.</summary>
internal sealed class VirtualKeyRefresher(VirtualKeyStore store, IOptions<AuthOptions> options, ILogger<VirtualKeyRefresher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.LoadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.KeyRefreshInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await store.RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
            {
                // Keep serving with the keys already loaded; the next tick tries again.
                Telemetry.Log.KeyRefreshFailed(logger, ex.Message);
            }
        }
    }
}
