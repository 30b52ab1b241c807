using Gateway.Testing;
using Gateway.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Tests.Spend;

/// <summary>
/// A fresh, empty database per test: a temp SQLite file, or a new PostgreSQL database when
/// GATEWAY_TEST_POSTGRES holds a connection string (CI sets it; .ci/run installs PostgreSQL).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly Func<Task> _drop;

    private TestDatabase(LedgerOptions options, Func<Task> drop)
    {
        Options = options;
        Database = new GatewayDatabase(Microsoft.Extensions.Options.Options.Create(options));
        _drop = drop;
    }

    public LedgerOptions Options { get; }

    public GatewayDatabase Database { get; }

    /// <summary>Both providers; a PostgreSQL case without GATEWAY_TEST_POSTGRES is reported as skipped, not left out.</summary>
    public static TheoryData<string> Providers() => new() { LedgerOptions.Sqlite, LedgerOptions.Postgres };

    public static async Task<TestDatabase> CreateAsync(string provider)
    {
        if (provider == LedgerOptions.Sqlite)
        {
            var folder = TestFolders.Create("gateway-ledger-").FullName;
            return new TestDatabase(
                new LedgerOptions { ConnectionString = $"Data Source={Path.Combine(folder, "gateway.db")}" },
                () =>
                {
                    Directory.Delete(folder, recursive: true);
                    return Task.CompletedTask;
                });
        }

        var server = TestPostgres.Server;
        Skip.If(server is null, $"{TestPostgres.Variable} is not set: PostgreSQL cases need a server (bash .ci/run starts one).");
        var postgres = await TestPostgres.CreateAsync(server!);
        var options = new LedgerOptions { Provider = LedgerOptions.Postgres, ConnectionString = postgres.ConnectionString };
        return new TestDatabase(options, async () => await postgres.DisposeAsync());
    }

    /// <summary>A plain connection that runs no schema step: to shape the database as an older release left it.</summary>
    public async Task<System.Data.Common.DbConnection> OpenUnmigratedAsync()
    {
        System.Data.Common.DbConnection connection = Options.Provider == LedgerOptions.Postgres
            ? new NpgsqlConnection(Options.ConnectionString)
            : new Microsoft.Data.Sqlite.SqliteConnection(Options.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs <paramref name="sql"/> on a plain connection (no schema step).</summary>
    public async Task ExecuteUnmigratedAsync(string sql)
    {
        await using var connection = await OpenUnmigratedAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        await _drop();
    }
}
