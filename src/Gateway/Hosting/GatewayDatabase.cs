using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using FluentValidation;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Hosting;

/// <summary>The gateway's database (ledger, policy audit), bound from the <c>Ledger</c> section (ARCHITECTURE §4, §6).</summary>
public sealed class LedgerOptions
{
    public const string Section = "Ledger";
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> (default, embedded, WAL) or <c>postgres</c> (shared by replicas).</summary>
    [Required]
    public string Provider { get; set; } = Sqlite;

    /// <summary>SQLite default <c>Data Source=data/gateway.db</c> (relative to the working directory; the folder is created). PostgreSQL: an Npgsql connection string.</summary>
    [Required]
    public string ConnectionString { get; set; } = "Data Source=data/gateway.db";

    /// <summary><c>batched</c> (default): a record is committed within <see cref="FlushInterval"/>; graceful shutdown drains. <c>sync</c>: the response completes only after its record is committed; records are committed as soon as the writer is free, together with whatever else is waiting (group commit), without waiting for <see cref="FlushInterval"/>.</summary>
    [Required]
    public string Durability { get; set; } = "batched";

    /// <summary>Longest a record waits before its batch is written (default 200 ms).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Most records written in one transaction (default 500).</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>Records held while the store is slow or down (default 100,000). When full, requests wait and /readyz reports unready; nothing is dropped.</summary>
    [Range(1, 10_000_000)]
    public int BufferCapacity { get; set; } = 100_000;

    /// <summary>
    /// SQLite only: the write-ahead log's size, in 4 KiB pages, at which a commit copies it into the database (default 100;
    /// SQLite's own default is 1,000). The copy runs on the committing thread, so larger values mean rarer but longer stalls
    /// of a core that also serves requests.
    /// </summary>
    [Range(1, 1_000_000)]
    public int WalCheckpointPages { get; set; } = 100;

    public bool IsSync => string.Equals(Durability, "sync", StringComparison.OrdinalIgnoreCase);
}

internal sealed class LedgerOptionsValidator : AbstractValidator<LedgerOptions>
{
    public LedgerOptionsValidator()
    {
        RuleFor(o => o.Provider).Must(p => p is LedgerOptions.Sqlite or LedgerOptions.Postgres)
            .WithMessage("must be 'sqlite' or 'postgres'");
        RuleFor(o => o.Durability).Must(d => d is "batched" or "sync")
            .WithMessage("must be 'batched' or 'sync'");
        RuleFor(o => o.ConnectionString).Must(c => !c.TrimStart().StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase))
            .When(o => o.Provider == LedgerOptions.Postgres)
            .WithMessage("must be a PostgreSQL connection string (Host=…;Database=…;Username=…) when Ledger:Provider is postgres");
        RuleFor(o => o.FlushInterval).InclusiveBetween(TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1))
            .WithMessage("must be between 1 ms and 1 minute");
    }
}

internal sealed class LedgerOptionsValidation : IValidateOptions<LedgerOptions>
{
    private readonly LedgerOptionsValidator _validator = new();

    public ValidateOptionsResult Validate(string? name, LedgerOptions options) =>
        OptionsValidation.From(_validator.Validate(options), LedgerOptions.Section);
}

/// <summary>
/// Opens connections to the configured database: embedded SQLite in WAL mode (readers never wait
/// for the writer) or PostgreSQL, at the schema version this release knows (<see cref="MigrateAsync"/>). Features own
/// their tables and declare their schema steps; SQL is written once for both (<c>@name</c> parameters, ISO-8601 UTC
/// text timestamps, integer money).
/// </summary>
public sealed class GatewayDatabase : IAsyncDisposable
{
    private readonly string? _sqlite;
    private readonly NpgsqlDataSource? _postgres;
    private readonly IReadOnlyList<SchemaMigration> _migrations;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _migration = new(1, 1);
    private volatile int _schemaVersion;
    private int _prepared;
    private readonly int _walCheckpointPages;

    /// <param name="migrations">The schema steps to apply; <see cref="GatewaySchema.Migrations"/> unless a test says otherwise.</param>
    public GatewayDatabase(IOptions<LedgerOptions> options, TimeProvider? timeProvider = null, IReadOnlyList<SchemaMigration>? migrations = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _migrations = migrations ?? GatewaySchema.Migrations;
        if (options.Value.Provider == LedgerOptions.Postgres)
        {
            _postgres = NpgsqlDataSource.Create(options.Value.ConnectionString);
            return;
        }

        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString);
        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        _walCheckpointPages = options.Value.WalCheckpointPages;
        builder.Pooling = true;
        builder.DefaultTimeout = 30;
        _sqlite = builder.ToString();
    }

    public bool IsPostgres => _postgres is not null;

    /// <summary>The schema version this database is at, once this process has checked it (null before).</summary>
    public int? SchemaVersion => _schemaVersion == 0 ? null : _schemaVersion;

    /// <summary>
    /// Applies the schema steps this database lacks (<see cref="GatewaySchema"/>), once per process; every connection
    /// handed out comes after it. Called at start so that a database upgraded by a newer release stops this one before
    /// it serves; when the database cannot be reached yet, the first connection that succeeds runs it.
    /// </summary>
    /// <exception cref="SchemaTooNewException">The database was upgraded by a newer release.</exception>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        if (_schemaVersion != 0)
        {
            return _schemaVersion;
        }

        await _migration.WaitAsync(cancellationToken);
        try
        {
            if (_schemaVersion == 0)
            {
                await using var connection = await OpenConnectionAsync(cancellationToken);
                _schemaVersion = await GatewaySchema.ApplyAsync(this, connection, _migrations, _timeProvider, cancellationToken);
            }

            return _schemaVersion;
        }
        finally
        {
            _migration.Release();
        }
    }

    /// <summary>A connection to a database at this release's schema version.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_schemaVersion == 0)
        {
            await MigrateAsync(cancellationToken);
        }

        return await OpenConnectionAsync(cancellationToken);
    }

    private async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(_sqlite);
        await connection.OpenAsync(cancellationToken);
        if (Interlocked.Exchange(ref _prepared, 1) == 0)
        {
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        // Per connection: WAL with synchronous=NORMAL survives a crash of the process (committed
        // transactions are in the log); only an OS crash or power loss can lose the last commits.
        // FULL would fsync on every commit. The commit that takes the log past wal_autocheckpoint pages
        // copies it into the database: at SQLite's default of 1,000 pages that copy held a core for 4–11 ms
        // of CPU, at 100 (our default) ~1 ms, for ~10 % more CPU per ledger row (docs/benchmarks.md, "The ledger batch").
        await using (var pragmas = connection.CreateCommand())
        {
            pragmas.CommandText = $"PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint={_walCheckpointPages};";
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
        }

        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}

internal static class DbCommandExtensions
{
    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }
}
