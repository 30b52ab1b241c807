using System.Data.Common;
using System.Globalization;
using Gateway.Hosting;
using Gateway.Tests.Spend;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

/// <summary>Versioned schema steps on both databases: applied once under the database's lock, recorded, refused when newer.</summary>
public sealed class SchemaMigrationTests
{
    public static TheoryData<string> Providers => TestDatabase.Providers();

    [Fact]
    public void TheShippedSteps_AreNumberedOneToNWithoutGaps()
    {
        Assert.Equal(Enumerable.Range(1, GatewaySchema.Migrations.Count), GatewaySchema.Migrations.Select(m => m.Version));
        Assert.Equal(GatewaySchema.Migrations.Count, GatewaySchema.Latest);

        var step = new SchemaMigration(1, "one", (_, _) => Task.CompletedTask);
        var repeated = Assert.Throws<InvalidOperationException>(() => GatewaySchema.Ordered([step, step with { Name = "also one" }]));
        Assert.Contains("1 (also one)", repeated.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => GatewaySchema.Ordered([step, step with { Version = 3 }]));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task AnEmptyDatabase_GetsEveryStep_RecordedOnce(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);

        Assert.Null(db.Database.SchemaVersion);
        Assert.Equal(GatewaySchema.Latest, await db.Database.MigrateAsync(CancellationToken.None));
        Assert.Equal(GatewaySchema.Latest, db.Database.SchemaVersion);

        var versions = await VersionsAsync(db);
        Assert.Equal(Enumerable.Range(1, GatewaySchema.Latest), versions);

        // Another process on the same database applies nothing and agrees on the version.
        await using var again = new GatewayDatabase(Options.Create(db.Options));
        Assert.Equal(GatewaySchema.Latest, await again.MigrateAsync(CancellationToken.None));
        Assert.Equal(versions, await VersionsAsync(db));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task ReplicasMigratingAtOnce_AllComeUp_AndEachStepIsAppliedOnce(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        var applied = 0;
        // The shipped steps plus one that counts how often it runs: taking turns under the lock means exactly once.
        var steps = GatewaySchema.Migrations.Append(new SchemaMigration(GatewaySchema.Latest + 1, "counted", async (change, ct) =>
        {
            Interlocked.Increment(ref applied);
            await change.ExecuteAsync("CREATE TABLE counted (id INTEGER PRIMARY KEY)", ct); // no IF NOT EXISTS: a second run would fail
        })).ToArray();
        var replicas = Enumerable.Range(0, 8).Select(_ => new GatewayDatabase(Options.Create(db.Options), migrations: steps)).ToList();
        try
        {
            var versions = await Task.WhenAll(replicas.Select(r => Task.Run(() => r.MigrateAsync(CancellationToken.None))));

            Assert.All(versions, v => Assert.Equal(GatewaySchema.Latest + 1, v));
            Assert.Equal(1, applied);
            Assert.Equal(Enumerable.Range(1, GatewaySchema.Latest + 1), await VersionsAsync(db));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task ADatabaseUpgradedByANewerRelease_IsRefused_WithTheVersions(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        await db.Database.MigrateAsync(CancellationToken.None);
        var newer = GatewaySchema.Latest + 3;
        await db.ExecuteUnmigratedAsync(
            $"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({newer}, 'from the future', '2027-01-01T00:00:00.0000000Z')");

        await using var older = new GatewayDatabase(Options.Create(db.Options));
        var refused = await Assert.ThrowsAsync<SchemaTooNewException>(() => older.MigrateAsync(CancellationToken.None));
        Assert.Equal(newer, refused.Found);
        Assert.Equal(GatewaySchema.Latest, refused.Known);
        Assert.Contains($"version {newer}", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"the {GatewaySchema.Latest} this gateway knows", refused.Message, StringComparison.Ordinal);
        // Nor does it hand out connections to a schema it does not know.
        await Assert.ThrowsAsync<SchemaTooNewException>(() => older.OpenAsync(CancellationToken.None));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task AFailingStep_RollsBackTheWholeRun_AndIsTriedAgainNextTime(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        SchemaMigration[] broken =
        [
            new(1, "good", (change, ct) => change.ExecuteAsync("CREATE TABLE first_step (id INTEGER PRIMARY KEY)", ct)),
            new(2, "bad", (change, ct) => change.ExecuteAsync("CREATE TABLE second_step (id INTEGER PRIMARY KEY, id INTEGER)", ct)),
        ];
        await using (var failing = new GatewayDatabase(Options.Create(db.Options), migrations: broken))
        {
            await Assert.ThrowsAnyAsync<DbException>(() => failing.MigrateAsync(CancellationToken.None));
            Assert.Null(failing.SchemaVersion);
        }

        // Nothing of step 1 stayed: not its table, not its row.
        Assert.Empty(await VersionsAsync(db));
        await Assert.ThrowsAnyAsync<DbException>(() => db.ExecuteUnmigratedAsync("SELECT id FROM first_step"));

        SchemaMigration[] mended = [broken[0], broken[1] with { Apply = (change, ct) => change.ExecuteAsync("CREATE TABLE second_step (id INTEGER PRIMARY KEY)", ct) }];
        await using var fixedRelease = new GatewayDatabase(Options.Create(db.Options), migrations: mended);
        Assert.Equal(2, await fixedRelease.MigrateAsync(CancellationToken.None));
        Assert.Equal([1, 2], await VersionsAsync(db));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task ADatabaseFromBeforeVersioning_IsAdopted_WithItsRowsAndMissingColumnsAdded(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        // Tables as the release before versioned migrations left them: keys without scopes, an audit without simulation.
        await db.ExecuteUnmigratedAsync("""
            CREATE TABLE client_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, team TEXT NOT NULL, owner TEXT, metadata TEXT, models TEXT,
                rpm_limit BIGINT, tpm_limit BIGINT, secret_hash TEXT NOT NULL UNIQUE, previous_hash TEXT, previous_valid_until TEXT, prefix TEXT NOT NULL,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT);
            CREATE TABLE policy_audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, source TEXT NOT NULL, version_before TEXT,
                version_after TEXT NOT NULL, diff TEXT NOT NULL, document TEXT NOT NULL);
            INSERT INTO policy_audit VALUES (1, '2026-11-30T00:00:00.0000000Z', 'file', 'file', NULL, 'v1', '', 'routes: {}');
            """);

        Assert.Equal(GatewaySchema.Latest, await db.Database.MigrateAsync(CancellationToken.None));

        await using var connection = await db.Database.OpenAsync(CancellationToken.None);
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT (SELECT COUNT(*) FROM client_keys WHERE scopes IS NULL), (SELECT COUNT(*) FROM policy_audit WHERE simulation IS NULL)";
        await using var reader = await probe.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(0L, Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        Assert.Equal(1L, Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)); // the old row kept
    }

    private static async Task<List<int>> VersionsAsync(TestDatabase db)
    {
        await using var connection = await db.OpenUnmigratedAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM schema_migrations ORDER BY version";
        var versions = new List<int>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                versions.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }
        catch (DbException)
        {
            // No schema_migrations table at all.
        }

        return versions;
    }
}
