using System.Data.Common;
using System.Globalization;
using Gateway.Auth;
using Gateway.Policies;
using Gateway.Retrieval;
using Gateway.Spend;

namespace Gateway.Hosting;

/// <summary>
/// One numbered step of the gateway's database schema. Each feature owns its tables and declares their steps next to
/// the SQL that uses them; <see cref="GatewaySchema"/> puts them in order. A step never changes once released: a new
/// column or table is a new step with the next free number.
/// </summary>
public sealed record SchemaMigration(int Version, string Name, Func<SchemaChange, CancellationToken, Task> Apply);

/// <summary>What a migration step may do, inside the one transaction that also records it.</summary>
public sealed class SchemaChange(GatewayDatabase database, DbConnection connection, DbTransaction transaction)
{
    public bool IsPostgres => database.IsPostgres;

    /// <summary>Runs <paramref name="sql"/> with the dialect's placeholders filled: <c>{identity}</c> (auto-numbered primary key), <c>{blob}</c>.</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql
            .Replace("{identity}", database.IsPostgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT", StringComparison.Ordinal)
            .Replace("{blob}", database.IsPostgres ? "BYTEA" : "BLOB", StringComparison.Ordinal);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Adds a column unless the table has it already: databases created before versioned migrations had columns added
    /// one release at a time, so the baseline steps must accept any of those shapes. PostgreSQL has <c>ADD COLUMN IF
    /// NOT EXISTS</c>; SQLite does not, so probe first (a failed probe does not end a SQLite transaction).
    /// </summary>
    public async Task AddColumnAsync(string table, string column, string type, CancellationToken cancellationToken)
    {
        if (database.IsPostgres)
        {
            await ExecuteAsync($"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type}", cancellationToken);
            return;
        }

        await using (var probe = connection.CreateCommand())
        {
            probe.Transaction = transaction;
            probe.CommandText = $"SELECT {column} FROM {table} WHERE 1 = 0";
            try
            {
                await probe.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (DbException)
            {
                // No such column: add it.
            }
        }

        await ExecuteAsync($"ALTER TABLE {table} ADD COLUMN {column} {type}", cancellationToken);
    }
}

/// <summary>The database holds a schema newer than this gateway's: it was upgraded by a newer release.</summary>
public sealed class SchemaTooNewException(int found, int known) : Exception(
    $"The database's schema is at version {found}, newer than the {known} this gateway knows: a newer gateway release has upgraded it. " +
    "Run that release (or newer) here, or point Ledger:ConnectionString at another database.")
{
    public int Found { get; } = found;

    public int Known { get; } = known;
}

/// <summary>Every schema step the gateway knows, in order, and how they are applied.</summary>
public static class GatewaySchema
{
    public static IReadOnlyList<SchemaMigration> Migrations { get; } = Ordered(
    [
        .. SpendLedgerStore.Migrations,
        .. PolicyAuditStore.Migrations,
        .. KnowledgeBase.Migrations,
        .. VirtualKeyStore.Migrations,
        .. BudgetAlerts.Migrations,
        .. AdminConsole.DatabaseKeyRing.Migrations,
    ]);

    /// <summary>The schema version this release creates and expects.</summary>
    public static int Latest => Migrations[^1].Version;

    /// <summary>Any constant: the PostgreSQL advisory lock under which replicas take turns to migrate.</summary>
    private const long Lock = 0x6761_7465_7761_79; // "gateway"

    private const string VersionTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL);
        """;

    /// <summary>Versions numbered 1, 2, 3 … with no gap or repeat: two features claiming one number is a build mistake, caught at start.</summary>
    internal static IReadOnlyList<SchemaMigration> Ordered(IEnumerable<SchemaMigration> migrations)
    {
        var ordered = migrations.OrderBy(m => m.Version).ToArray();
        for (var i = 0; i < ordered.Length; i++)
        {
            if (ordered[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"Schema migrations must be numbered 1..{ordered.Length} without gaps or repeats; found {string.Join(", ", ordered.Select(m => $"{m.Version} ({m.Name})"))}.");
            }
        }

        return ordered;
    }

    /// <summary>
    /// Brings the database to <paramref name="migrations"/>' last version and returns it. Everything happens in one
    /// transaction that first takes the database's lock (PostgreSQL: a transaction-scoped advisory lock; SQLite:
    /// <c>BEGIN IMMEDIATE</c>, the file's write lock), so replicas starting at once take turns: the first applies the
    /// steps, the others find them recorded and apply nothing. A failed step rolls back the whole run.
    /// </summary>
    /// <exception cref="SchemaTooNewException">The database records a version above the last one known here.</exception>
    internal static async Task<int> ApplyAsync(GatewayDatabase database, DbConnection connection, IReadOnlyList<SchemaMigration> migrations,
        TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var change = new SchemaChange(database, connection, transaction);
        if (database.IsPostgres)
        {
            await change.ExecuteAsync($"SELECT pg_advisory_xact_lock({Lock})", cancellationToken);
        }

        await change.ExecuteAsync(VersionTable, cancellationToken);
        var applied = new HashSet<int>();
        await using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT version FROM schema_migrations";
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }

        var known = migrations.Count == 0 ? 0 : migrations[^1].Version;
        if (applied.Count > 0 && applied.Max() > known)
        {
            throw new SchemaTooNewException(applied.Max(), known);
        }

        foreach (var migration in migrations.Where(m => !applied.Contains(m.Version)))
        {
            await migration.Apply(change, cancellationToken);
            await using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)";
            record.With("@version", migration.Version).With("@name", migration.Name).With("@at", SpendLedgerStore.Time(timeProvider.GetUtcNow()));
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return known;
    }
}

/// <summary>
/// Brings the database to this release's schema before the gateway serves (replicas starting together take turns under
/// the database's lock). A schema newer than this release knows stops the start with <see cref="SchemaTooNewException"/>.
/// A database that cannot be reached yet does not: the ledger buffers, and the first connection that succeeds migrates.
/// </summary>
internal sealed class SchemaMigrationService(GatewayDatabase database, ILogger<SchemaMigrationService> logger) : IHostedService
{
    // Program has usually done it already (before the host started); then there is nothing to do.
    public Task StartAsync(CancellationToken cancellationToken) =>
        database.SchemaVersion is null ? MigrateAtStartAsync(database, logger, cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>What both <c>Program</c> (before the host starts) and this service do at start.</summary>
    /// <exception cref="SchemaTooNewException">The database was upgraded by a newer release: the gateway must not start.</exception>
    public static async Task MigrateAtStartAsync(GatewayDatabase database, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var version = await database.MigrateAsync(cancellationToken);
            logger.LogDebug("Database schema at version {Version}.", version); // not Information: `simulate` writes JSON to stdout
        }
        catch (SchemaTooNewException ex)
        {
            logger.LogCritical("{Reason}", ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is DbException or TimeoutException)
        {
            logger.LogWarning("The database cannot be reached to check its schema ({Reason}); the first connection that succeeds will.", ex.Message);
        }
    }
}
