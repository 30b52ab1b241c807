using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Gateway.Hosting;

namespace Gateway.Policies;

/// <summary>One applied policy change.</summary>
public sealed record PolicyAuditEntry(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("actor")] string Actor,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("version_before")] string? VersionBefore,
    [property: JsonPropertyName("version_after")] string VersionAfter,
    [property: JsonPropertyName("diff")] string Diff,
    [property: JsonPropertyName("simulation")] string? Simulation = null);

/// <summary>
/// The audit log of applied policies, durable in the gateway's database: who (key id, or
/// <c>file</c> for edits on disk), when, versions before and after, a line diff, and the full
/// document so any version can be rolled back to.
/// </summary>
public sealed class PolicyAuditStore(GatewayDatabase database)
{
    /// <summary>Schema step 2: the policy audit log (its <c>simulation</c> column came a release later).</summary>
    internal static readonly SchemaMigration[] Migrations =
    [
        new(2, "policy_audit", async (change, ct) =>
        {
            await change.ExecuteAsync(Schema, ct);
            await change.AddColumnAsync("policy_audit", "simulation", "TEXT", ct);
        }),
    ];

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS policy_audit (
            id {identity},
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            source TEXT NOT NULL,
            version_before TEXT,
            version_after TEXT NOT NULL,
            diff TEXT NOT NULL,
            document TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS policy_audit_version ON policy_audit (version_after);
        """;

    /// <param name="simulation">The summary of the simulation the change was applied with, if any.</param>
    public async Task AppendAsync(DateTimeOffset at, string actor, string source, RoutingPolicy? before, RoutingPolicy after, CancellationToken cancellationToken,
        string? simulation = null)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO policy_audit (at, actor, source, version_before, version_after, diff, document, simulation)
            VALUES (@at, @actor, @source, @before, @after, @diff, @document, @simulation);
            """;
        command.With("@at", at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))
            .With("@actor", actor)
            .With("@source", source)
            .With("@before", before?.Version)
            .With("@after", after.Version)
            .With("@diff", Diff(before?.Document ?? "", after.Document))
            .With("@document", after.Document)
            .With("@simulation", simulation);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Newest first.</summary>
    public async Task<IReadOnlyList<PolicyAuditEntry>> HistoryAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, at, actor, source, version_before, version_after, diff, simulation FROM policy_audit ORDER BY id DESC LIMIT @limit;";
        command.With("@limit", limit);
        var entries = new List<PolicyAuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new PolicyAuditEntry(
                reader.GetInt64(0),
                DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
                reader.GetString(2),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetString(5),
                reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return entries;
    }

    /// <summary>The document of the newest applied change that produced <paramref name="version"/>.</summary>
    public async Task<string?> DocumentAsync(string version, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT document FROM policy_audit WHERE version_after = @version ORDER BY id DESC LIMIT 1;";
        command.With("@version", version);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<string?> LastVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version_after FROM policy_audit ORDER BY id DESC LIMIT 1;";
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Changed lines only, <c>-</c>/<c>+</c> with their line numbers.</summary>
    internal static string Diff(string before, string after)
    {
        var model = InlineDiffBuilder.Diff(before, after, ignoreWhiteSpace: false);
        var text = new StringBuilder();
        foreach (var line in model.Lines)
        {
            switch (line.Type)
            {
                case ChangeType.Deleted:
                    text.Append("- ").AppendLine(line.Text);
                    break;
                case ChangeType.Inserted:
                    text.Append(CultureInfo.InvariantCulture, $"+ {line.Position}: ").AppendLine(line.Text);
                    break;
            }
        }

        return text.ToString();
    }
}
