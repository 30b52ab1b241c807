using Npgsql;

namespace Gateway.Testing;

/// <summary>
/// A fresh, empty PostgreSQL database on the server named by GATEWAY_TEST_POSTGRES (CI sets it; .ci/run installs and
/// starts PostgreSQL), dropped on dispose. Without the variable, PostgreSQL cases are skipped, not left out.
/// </summary>
internal sealed class TestPostgres : IAsyncDisposable
{
    public const string Variable = "GATEWAY_TEST_POSTGRES";

    private readonly string _admin;
    private readonly string _name;

    private TestPostgres(string admin, string name)
    {
        _admin = admin;
        _name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    /// <summary>The new database's connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's connection string, or null when PostgreSQL cases cannot run here.</summary>
    public static string? Server => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } admin ? admin : null;

    public static async Task<TestPostgres> CreateAsync(string server)
    {
        var name = $"gw_test_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
        return new TestPostgres(server, name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
