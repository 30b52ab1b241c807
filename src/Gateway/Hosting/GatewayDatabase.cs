using System.ComponentModel.DataAnnotations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>The gateway's database, bound from the <c>Ledger</c> section (ARCHITECTURE §4, §6).</summary>
public sealed class LedgerOptions
{
    public const string Section = "Ledger";

    /// <summary><c>sqlite</c> (default, embedded). <c>postgres</c> arrives with the spend ledger (issue #7).</summary>
    [Required]
    [RegularExpression("^sqlite$", ErrorMessage = "Ledger:Provider must be 'sqlite' in this build (postgres arrives with the spend ledger)")]
    public string Provider { get; set; } = "sqlite";

    /// <summary>Default <c>Data Source=data/gateway.db</c>, relative to the working directory; the folder is created.</summary>
    [Required]
    public string ConnectionString { get; set; } = "Data Source=data/gateway.db";
}

/// <summary>
/// Opens connections to the embedded SQLite database in WAL mode (readers never wait for the
/// writer). Features own their tables and create them on first use.
/// </summary>
public sealed class GatewayDatabase
{
    private readonly string _connectionString;
    private int _prepared;

    public GatewayDatabase(IOptions<LedgerOptions> options)
    {
        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString);
        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        builder.Pooling = true;
        _connectionString = builder.ToString();
    }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        if (Interlocked.Exchange(ref _prepared, 1) == 0)
        {
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        return connection;
    }
}
