using Gateway.Spend;

namespace Gateway.Tests.Spend;

/// <summary>The same suite against every store: SQLite, and PostgreSQL where configured.</summary>
public sealed class SpendLedgerStoreTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Providers => TestDatabase.Providers();

    private static SpendRecord Record(string id, DateTimeOffset at, string team = "research", string route = "frontier", string model = "gpt-4o",
        decimal cost = 0.001m, decimal? counterfactual = 0.002m, int status = 200, int prompt = 100, int completion = 50, string? category = "chat") => new()
    {
        RequestId = id,
        Timestamp = at,
        KeyId = $"{team}-key",
        Team = team,
        Route = route,
        Model = model,
        Category = category,
        NeedsStrong = 0.25f,
        Status = status,
        Usage = new Usage(prompt, completion, CachedPromptTokens: 10),
        CostUsd = cost,
        CounterfactualCostUsd = counterfactual,
        Latency = TimeSpan.FromMilliseconds(12.5),
        TimeToFirstByte = TimeSpan.FromMilliseconds(3),
        PolicyVersion = "abc123def456",
    };

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task ALedgerFromBeforeDecisionFacts_GainsTheColumn_AndKeepsItsRows(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        // As a release before versioned migrations left it: no schema_migrations table, the ledger without its later columns.
        await db.ExecuteUnmigratedAsync("""
            CREATE TABLE spend_ledger (request_id TEXT PRIMARY KEY, at TEXT NOT NULL, key_id TEXT NOT NULL, team TEXT NOT NULL,
                route TEXT NOT NULL, model TEXT NOT NULL, category TEXT, needs_strong REAL, status INTEGER NOT NULL, stream INTEGER NOT NULL,
                prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL, cached_prompt_tokens BIGINT NOT NULL,
                usage_estimated INTEGER NOT NULL, cost_nusd BIGINT NOT NULL, counterfactual_nusd BIGINT, latency_ms DOUBLE PRECISION NOT NULL,
                ttfb_ms DOUBLE PRECISION, fallback_from TEXT, policy_version TEXT NOT NULL);
            INSERT INTO spend_ledger VALUES ('old', '2026-11-30T00:30:00.0000000Z', 'k', 'research', 'frontier', 'gpt-4o', NULL, NULL, 200, 0,
                10, 5, 0, 0, 1000, NULL, 1.0, NULL, NULL, 'v1');
            """);

        var store = new SpendLedgerStore(db.Database);
        await store.AppendAsync([Record("new", Day.AddHours(1)) with { DecisionFacts = """{"op":"ChatCompletions","model":"auto"}""" }], CancellationToken.None);

        var rows = await store.RowsAsync(Day, Day.AddDays(1), null, CancellationToken.None).ToListAsync();
        Assert.Equal(["old", "new"], rows.Select(r => r.DecisionFacts is null ? "old" : "new"));
        Assert.Equal(0.000001m, rows[0].CostUsd);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task ReplicasStartingTogether_CreateTheSchemaOnce_WithoutColliding(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        // Eight "replicas": each its own connection pool, all creating the ledger and audit tables at the same moment.
        var replicas = Enumerable.Range(0, 8).Select(_ => new Gateway.Hosting.GatewayDatabase(Microsoft.Extensions.Options.Options.Create(db.Options))).ToList();
        try
        {
            await Task.WhenAll(replicas.Select(r => Task.Run(async () =>
            {
                await new SpendLedgerStore(r).InitializeAsync(CancellationToken.None);
                await new Gateway.Policies.PolicyAuditStore(r).LastVersionAsync(CancellationToken.None);
            })));

            var store = new SpendLedgerStore(replicas[0]);
            await store.AppendAsync([Record("after", Day.AddHours(1))], CancellationToken.None);
            Assert.Single(await store.TotalsAsync(new SpendQuery(Day, Day.AddDays(1), []), CancellationToken.None));
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
    public async Task Totals_GroupAndSumExactly(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        var store = new SpendLedgerStore(db.Database);
        await store.AppendAsync(
        [
            Record("r1", Day.AddHours(1), cost: 0.000123456m, counterfactual: 0.001m, category: null) with { NeedsStrong = null, TimeToFirstByte = null },
            Record("r2", Day.AddHours(2), cost: 1.5m, counterfactual: 2.25m) with { FallbackFrom = "flaky", Category = null, NeedsStrong = null, TimeToFirstByte = null },
            Record("r3", Day.AddHours(3), team: "support", category: "math", route: "mini", model: "gpt-4o-mini", cost: 0.000000001m, counterfactual: null),
            Record("r4", Day.AddHours(4), team: "support", route: "mini", model: "gpt-4o-mini", status: 429, cost: 0, counterfactual: null, prompt: 0, completion: 0),
        ], CancellationToken.None);

        var rows = await store.TotalsAsync(new SpendQuery(Day, Day.AddDays(1), ["team", "route"]), CancellationToken.None);

        Assert.Equal(2, rows.Count);
        var research = rows[0];
        Assert.Equal(new Dictionary<string, string> { ["team"] = "research", ["route"] = "frontier" }, research.Group);
        Assert.Equal(2, research.Requests);
        Assert.Equal(1.500123456m, research.CostUsd);
        Assert.Equal(2.251m, research.CounterfactualCostUsd);
        Assert.Equal(0.750876544m, research.SavedUsd);
        Assert.Equal(200, research.PromptTokens);
        Assert.Equal(100, research.CompletionTokens);
        Assert.Equal(20, research.CachedPromptTokens);
        var support = rows[1];
        Assert.Equal(2, support.Requests);
        Assert.Equal(1, support.FailedRequests);
        Assert.Equal(0.000000001m, support.CostUsd);
        Assert.Equal(0m, support.SavedUsd); // no reference route: counterfactual = cost
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task Append_SameRequestTwice_CountsOnce(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        var store = new SpendLedgerStore(db.Database);

        await store.AppendAsync([Record("dup", Day.AddHours(1))], CancellationToken.None);
        await store.AppendAsync([Record("dup", Day.AddHours(1)), Record("other", Day.AddHours(1))], CancellationToken.None);

        var total = Assert.Single(await store.TotalsAsync(new SpendQuery(Day, Day.AddDays(1), []), CancellationToken.None));
        Assert.Equal(2, total.Requests);
        Assert.Equal(0.002m, total.CostUsd);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task Append_StoresEveryField_InItsColumn_AndNullsAsNull(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        var store = new SpendLedgerStore(db.Database);
        // Given in another offset, with fractions of a second: stored as UTC text to the tick.
        var at = new DateTimeOffset(2026, 11, 30, 3, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var full = Record("full", at, status: 429, prompt: 1234, completion: 56) with
        {
            Usage = new Usage(1234, 56, CachedPromptTokens: 78, Estimated: true),
            Stream = true,
            FallbackFrom = "local",
            DecisionFacts = """{"op":"ChatCompletions"}""",
            ExpectedQuality = 0.75,
            ReferenceQuality = 0.875,
            Operation = "chat.completions",
            EndUser = "user-9 Zoë 東京",
            Tags = "a,b",
            Metadata = """{"k":"v"}""",
        };
        var sparse = Record("sparse", Day.AddHours(2), category: null, counterfactual: null) with
        {
            NeedsStrong = null,
            Usage = null,
            TimeToFirstByte = null,
        };

        await store.AppendAsync([full, sparse], CancellationToken.None);

        await using var connection = await db.Database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM spend_ledger ORDER BY request_id";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, string>>();
        while (await reader.ReadAsync())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName,
                i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!));
        }

        Assert.Equal(["full", "sparse"], rows.Select(r => r["request_id"]));
        Assert.Equal(new Dictionary<string, string>
        {
            ["request_id"] = "full", ["at"] = "2026-11-30T01:00:00.1234567Z", ["key_id"] = "research-key", ["team"] = "research",
            ["route"] = "frontier", ["model"] = "gpt-4o", ["category"] = "chat", ["needs_strong"] = "0.25", ["status"] = "429", ["stream"] = "1",
            ["prompt_tokens"] = "1234", ["completion_tokens"] = "56", ["cached_prompt_tokens"] = "78", ["usage_estimated"] = "1",
            ["cost_nusd"] = "1000000", ["counterfactual_nusd"] = "2000000", ["latency_ms"] = "12.5", ["ttfb_ms"] = "3", ["fallback_from"] = "local",
            ["policy_version"] = "abc123def456", ["decision_facts"] = """{"op":"ChatCompletions"}""", ["expected_quality"] = "0.75",
            ["reference_quality"] = "0.875", ["operation"] = "chat.completions", ["end_user"] = "user-9 Zoë 東京", ["tags"] = "a,b", ["metadata"] = """{"k":"v"}""",
        }, rows[0]);
        Assert.Equal(["category", "counterfactual_nusd", "decision_facts", "end_user", "expected_quality", "fallback_from", "metadata",
            "needs_strong", "operation", "reference_quality", "tags", "ttfb_ms"], rows[1].Where(c => c.Value == "NULL").Select(c => c.Key).Order());
        Assert.Equal(["0", "0", "0", "0"], new[] { rows[1]["prompt_tokens"], rows[1]["completion_tokens"], rows[1]["cached_prompt_tokens"], rows[1]["usage_estimated"] });
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task Totals_RangeIsFromInclusiveToExclusive_AndByDay(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        var store = new SpendLedgerStore(db.Database);
        await store.AppendAsync(
        [
            Record("before", Day.AddTicks(-1)),
            Record("first", Day),
            Record("next-day", Day.AddDays(1)),
        ], CancellationToken.None);

        var days = await store.TotalsAsync(new SpendQuery(Day, Day.AddDays(1), ["day"]), CancellationToken.None);
        var both = await store.TotalsAsync(new SpendQuery(Day.AddDays(-1), Day.AddDays(2), ["day", "status", "category"]), CancellationToken.None);

        Assert.Equal("2026-11-30", Assert.Single(days).Group["day"]);
        Assert.Equal(1, days[0].Requests);
        Assert.Equal(["2026-11-29", "2026-11-30", "2026-12-01"], both.Select(r => r.Group["day"]));
        Assert.All(both, r => Assert.Equal("200", r.Group["status"]));
        Assert.Empty(await store.TotalsAsync(new SpendQuery(Day.AddYears(1), Day.AddYears(2), ["team"]), CancellationToken.None));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task TeamSpend_SplitsTodayFromTheMonth(string provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        var store = new SpendLedgerStore(db.Database);
        await store.AppendAsync(
        [
            Record("last-month", new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), cost: 100m),
            Record("earlier", Day.AddDays(-3), cost: 2m),
            Record("today-1", Day.AddHours(1), cost: 0.5m),
            Record("today-2", Day.AddHours(9), team: "support", cost: 0.25m),
        ], CancellationToken.None);

        var spend = await store.BudgetSpendAsync(Day, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);

        Assert.Equal((0.5m, 2.5m), spend["research"]);
        Assert.Equal((0.25m, 0.25m), spend["support"]);
        // Each key's too, for key budgets: the records' keys are "<team>-key".
        Assert.Equal((0.5m, 2.5m), spend["key:research-key"]);
        Assert.Equal((0.25m, 0.25m), spend["key:support-key"]);
        Assert.Equal(4, spend.Count);
    }

    [Fact]
    public void Nano_RoundsToTheNanoDollar()
    {
        Assert.Equal(123, SpendLedgerStore.Nano(0.0000001234m));
        Assert.Equal(1, SpendLedgerStore.Nano(0.0000000005m));
        Assert.Equal(0.000000123m, SpendLedgerStore.Usd(123));
    }
}
