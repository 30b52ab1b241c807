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
    public const string PostgresVariable = "GATEWAY_TEST_POSTGRES";

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

        var admin = Environment.GetEnvironmentVariable(PostgresVariable);
        Skip.If(string.IsNullOrEmpty(admin), $"{PostgresVariable} is not set: PostgreSQL cases need a server (bash .ci/run starts one).");
        var name = $"gw_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var options = new LedgerOptions
        {
            Provider = LedgerOptions.Postgres,
            ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString,
        };
        return new TestDatabase(options, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        await _drop();
    }
}
