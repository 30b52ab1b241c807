using Gateway.Policies;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Gateway.Hosting;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Gateway.Spend;

/// <summary>A report query: a time range (from inclusive, to exclusive) and the dimensions to group by.</summary>
public sealed record SpendQuery(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<string> GroupBy)
{
    /// <summary>Equality filters by name (<see cref="SpendLedgerStore.Filters"/>).</summary>
    public IReadOnlyDictionary<string, string> Where { get; init; } = new Dictionary<string, string>();
}

/// <summary>One group of a spend report. Money is exact: summed from per-request nano-dollars.</summary>
public sealed record SpendTotals(
    IReadOnlyDictionary<string, string> Group,
    long Requests,
    long FailedRequests,
    long PromptTokens,
    long CompletionTokens,
    long CachedPromptTokens,
    long EstimatedUsageRequests,
    decimal CostUsd,
    decimal CounterfactualCostUsd,
    double QualityChangeSum = 0,
    long QualityRows = 0)
{
    /// <summary>What routing saved: the reference route's cost of the same tokens minus what was paid.</summary>
    public decimal SavedUsd => CounterfactualCostUsd - CostUsd;

    /// <summary>
    /// Mean expected quality of what was served minus the reference route's, over the requests the policy rates
    /// (negative: cheaper at some expected quality); null when none are rated.
    /// </summary>
    public double? ExpectedQualityChange => QualityRows == 0 ? null : Math.Round(QualityChangeSum / QualityRows, 4);
}

/// <summary>
/// The spend ledger: one row per request, in the gateway's database (SQLite or PostgreSQL, same SQL).
/// Money is stored as integer nano-dollars (1e-9 USD), so sums are exact and both stores agree to
/// the last digit. Appends are idempotent by request id: a batch retried after a failure that
/// happened after commit is not counted twice.
/// </summary>
public sealed class SpendLedgerStore(GatewayDatabase database)
{
    /// <summary>The dimensions a report may group by, with their SQL. Only these names reach SQL.</summary>
    public static readonly IReadOnlyDictionary<string, string> Dimensions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["team"] = "team",
        ["route"] = "route",
        ["model"] = "model",
        ["key"] = "key_id",
        ["category"] = "COALESCE(category, '')",
        ["status"] = "CAST(status AS TEXT)",
        ["day"] = "SUBSTR(at, 1, 10)",
        ["operation"] = "COALESCE(operation, '')",
        ["user"] = "COALESCE(end_user, '')",
        ["tags"] = "COALESCE(tags, '')",
    };

    /// <summary>What a report may be filtered by (equality), with their SQL; <c>tag</c> matches one tag of a request's set.</summary>
    public static readonly IReadOnlyDictionary<string, string> Filters = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["team"] = "team = @f_team",
        ["route"] = "route = @f_route",
        ["model"] = "model = @f_model",
        ["key"] = "key_id = @f_key",
        ["user"] = "end_user = @f_user",
        ["operation"] = "operation = @f_operation",
        ["tag"] = "(',' || tags || ',') LIKE @f_tag ESCAPE '!'",
    };

    private const decimal NanoPerUsd = 1_000_000_000m;

    /// <summary>Schema step 1: the ledger. Its later columns were added one release at a time before migrations were versioned, so the step accepts any of those shapes.</summary>
    internal static readonly SchemaMigration[] Migrations =
    [
        new(1, "spend_ledger", async (change, ct) =>
        {
            await change.ExecuteAsync(Schema, ct);
            foreach (var (column, type) in new[]
            {
                ("decision_facts", "TEXT"), ("expected_quality", "DOUBLE PRECISION"), ("reference_quality", "DOUBLE PRECISION"),
                ("operation", "TEXT"), ("end_user", "TEXT"), ("tags", "TEXT"), ("metadata", "TEXT"),
            })
            {
                await change.AddColumnAsync("spend_ledger", column, type, ct);
            }
        }),
    ];

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS spend_ledger (
            request_id TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            key_id TEXT NOT NULL,
            team TEXT NOT NULL,
            route TEXT NOT NULL,
            model TEXT NOT NULL,
            category TEXT,
            needs_strong REAL,
            status INTEGER NOT NULL,
            stream INTEGER NOT NULL,
            prompt_tokens BIGINT NOT NULL,
            completion_tokens BIGINT NOT NULL,
            cached_prompt_tokens BIGINT NOT NULL,
            usage_estimated INTEGER NOT NULL,
            cost_nusd BIGINT NOT NULL,
            counterfactual_nusd BIGINT,
            latency_ms DOUBLE PRECISION NOT NULL,
            ttfb_ms DOUBLE PRECISION,
            fallback_from TEXT,
            policy_version TEXT NOT NULL,
            decision_facts TEXT,
            expected_quality DOUBLE PRECISION,
            reference_quality DOUBLE PRECISION,
            operation TEXT,
            end_user TEXT,
            tags TEXT,
            metadata TEXT);
        CREATE INDEX IF NOT EXISTS spend_ledger_at ON spend_ledger (at);
        CREATE INDEX IF NOT EXISTS spend_ledger_team_at ON spend_ledger (team, at);
        """;

    /// <summary>
    /// Sortable UTC text (yyyy-MM-ddTHH:mm:ss.fffffffZ); the same in both databases, so range queries and day grouping
    /// agree. The round-trip format of a UTC time is exactly that text, through the formatter's fast path.
    /// </summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static long Nano(decimal usd) => (long)Math.Round(usd * NanoPerUsd, MidpointRounding.AwayFromZero);

    public static decimal Usd(long nano) => nano / NanoPerUsd;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
    }

    // Types are explicit: a prepared statement must not take them from the first row, whose values may be NULL.
    private static readonly (string Name, System.Data.DbType Type)[] Columns =
    [
        ("request_id", System.Data.DbType.String), ("at", System.Data.DbType.String), ("key_id", System.Data.DbType.String),
        ("team", System.Data.DbType.String), ("route", System.Data.DbType.String), ("model", System.Data.DbType.String),
        ("category", System.Data.DbType.String), ("needs_strong", System.Data.DbType.Double), ("status", System.Data.DbType.Int32),
        ("stream", System.Data.DbType.Int32), ("prompt_tokens", System.Data.DbType.Int64), ("completion_tokens", System.Data.DbType.Int64),
        ("cached_prompt_tokens", System.Data.DbType.Int64), ("usage_estimated", System.Data.DbType.Int32), ("cost_nusd", System.Data.DbType.Int64),
        ("counterfactual_nusd", System.Data.DbType.Int64), ("latency_ms", System.Data.DbType.Double), ("ttfb_ms", System.Data.DbType.Double),
        ("fallback_from", System.Data.DbType.String), ("policy_version", System.Data.DbType.String),
        ("decision_facts", System.Data.DbType.String), ("expected_quality", System.Data.DbType.Double),
        ("reference_quality", System.Data.DbType.Double), ("operation", System.Data.DbType.String),
        ("end_user", System.Data.DbType.String), ("tags", System.Data.DbType.String), ("metadata", System.Data.DbType.String),
    ];

    // One row's INSERT, bound by name (@request_id, …) or by position (?); a retried append is ignored.
    private static readonly string NamedInsert = InsertSql(column => "@" + column);
    private static readonly string PositionalInsert = InsertSql(_ => "?");

    private static string InsertSql(Func<string, string> parameter) =>
        $"INSERT INTO spend_ledger ({string.Join(", ", Columns.Select(c => c.Name))}) " +
        $"VALUES ({string.Join(", ", Columns.Select(c => parameter(c.Name)))}) ON CONFLICT (request_id) DO NOTHING;";

    /// <summary>Sets one row's values, in <see cref="Columns"/> order, on a statement.</summary>
    private interface IRowBinder
    {
        void Text(int column, string? value);

        void Integer(int column, long? value);

        void Real(int column, double? value);
    }

    private static void Bind<TBinder>(SpendRecord record, TBinder row) where TBinder : IRowBinder
    {
        var usage = record.Usage;
        row.Text(0, record.RequestId);
        row.Text(1, Time(record.Timestamp));
        row.Text(2, record.KeyId);
        row.Text(3, record.Team);
        row.Text(4, record.Route);
        row.Text(5, record.Model);
        row.Text(6, record.Category);
        row.Real(7, record.NeedsStrong);
        row.Integer(8, record.Status);
        row.Integer(9, record.Stream ? 1 : 0);
        row.Integer(10, usage?.PromptTokens ?? 0);
        row.Integer(11, usage?.CompletionTokens ?? 0);
        row.Integer(12, usage?.CachedPromptTokens ?? 0);
        row.Integer(13, usage?.Estimated == true ? 1 : 0);
        row.Integer(14, Nano(record.CostUsd));
        row.Integer(15, record.CounterfactualCostUsd is { } c ? Nano(c) : null);
        row.Real(16, record.Latency.TotalMilliseconds);
        row.Real(17, record.TimeToFirstByte?.TotalMilliseconds);
        row.Text(18, record.FallbackFrom);
        row.Text(19, record.PolicyVersion);
        row.Text(20, record.DecisionFacts);
        row.Real(21, record.ExpectedQuality);
        row.Real(22, record.ReferenceQuality);
        row.Text(23, record.Operation);
        row.Text(24, record.EndUser);
        row.Text(25, record.Tags);
        row.Text(26, record.Metadata);
    }

    /// <summary>
    /// Writes a batch in one transaction, with one prepared statement for all its rows. On SQLite the statement is bound by
    /// position through SQLitePCL, under Microsoft.Data.Sqlite: its by-name binding cost ~40 % more time and ~3.5 KB of garbage
    /// per row, on the core that serves requests (docs/benchmarks.md, "The ledger batch").
    /// </summary>
    public async Task AppendAsync(IReadOnlyList<SpendRecord> records, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (connection is SqliteConnection sqlite)
        {
            AppendSqlite(sqlite, records);
            return;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = NamedInsert;
        var parameters = new DbParameter[Columns.Length];
        for (var i = 0; i < Columns.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = "@" + Columns[i].Name;
            parameters[i].DbType = Columns[i].Type;
            command.Parameters.Add(parameters[i]);
        }

        await command.PrepareAsync(cancellationToken);
        foreach (var record in records)
        {
            Bind(record, new ParameterBinder(parameters));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static void AppendSqlite(SqliteConnection connection, IReadOnlyList<SpendRecord> records)
    {
        var db = connection.Handle!;
        using var transaction = connection.BeginTransaction();
        var prepared = raw.sqlite3_prepare_v2(db, PositionalInsert, out var statement);
        if (prepared != raw.SQLITE_OK)
        {
            throw Error(db, prepared);
        }

        using (statement)
        {
            var binder = new SqliteBinder(statement);
            foreach (var record in records)
            {
                Bind(record, binder);
                var result = raw.sqlite3_step(statement);
                if (result != raw.SQLITE_DONE)
                {
                    throw Error(db, result);
                }

                raw.sqlite3_reset(statement);
            }
        }

        transaction.Commit();
    }

    private static SqliteException Error(sqlite3 db, int result) =>
        new($"SQLite Error {result}: '{raw.sqlite3_errmsg(db).utf8_to_string()}'.", result, raw.sqlite3_extended_errcode(db));

    private readonly struct SqliteBinder(sqlite3_stmt statement) : IRowBinder
    {
        public void Text(int column, string? value) =>
            _ = value is null ? raw.sqlite3_bind_null(statement, column + 1) : raw.sqlite3_bind_text(statement, column + 1, value);

        public void Integer(int column, long? value) =>
            _ = value is { } v ? raw.sqlite3_bind_int64(statement, column + 1, v) : raw.sqlite3_bind_null(statement, column + 1);

        public void Real(int column, double? value) =>
            _ = value is { } v ? raw.sqlite3_bind_double(statement, column + 1, v) : raw.sqlite3_bind_null(statement, column + 1);
    }

    private readonly struct ParameterBinder(DbParameter[] parameters) : IRowBinder
    {
        public void Text(int column, string? value) => parameters[column].Value = value ?? (object)DBNull.Value;

        // status, stream and usage_estimated are INTEGER (int4) columns in PostgreSQL.
        public void Integer(int column, long? value) =>
            parameters[column].Value = value is not { } v ? DBNull.Value : parameters[column].DbType == System.Data.DbType.Int32 ? (int)v : v;

        public void Real(int column, double? value) => parameters[column].Value = value ?? (object)DBNull.Value;
    }

    /// <summary>Totals per group over [from, to). Requests without a reference route count their own cost as the counterfactual (saved 0).</summary>
    public async Task<IReadOnlyList<SpendTotals>> TotalsAsync(SpendQuery query, CancellationToken cancellationToken)
    {
        var columns = query.GroupBy.Select(g => Dimensions[g]).ToList();
        var sql = new StringBuilder("SELECT ");
        for (var i = 0; i < columns.Count; i++)
        {
            sql.Append(columns[i]).Append(" AS g").Append(i).Append(", ");
        }

        sql.Append("""
            COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), SUM(prompt_tokens), SUM(completion_tokens),
            SUM(cached_prompt_tokens), SUM(usage_estimated), SUM(cost_nusd), SUM(COALESCE(counterfactual_nusd, cost_nusd)),
            SUM(expected_quality - reference_quality), COUNT(expected_quality - reference_quality)
            FROM spend_ledger WHERE at >= @from AND at < @to
            """);
        foreach (var name in query.Where.Keys)
        {
            sql.Append(" AND ").Append(Filters[name]);
        }

        if (columns.Count > 0)
        {
            var groups = string.Join(", ", Enumerable.Range(0, columns.Count).Select(i => $"g{i}"));
            sql.Append(" GROUP BY ").Append(groups).Append(" ORDER BY ").Append(groups);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql.ToString();
        command.With("@from", Time(query.From)).With("@to", Time(query.To));
        foreach (var (name, value) in query.Where)
        {
            command.With("@f_" + name, name == "tag" ? $"%,{value.Replace("!", "!!").Replace("%", "!%").Replace("_", "!_")},%" : value);
        }

        var totals = new List<SpendTotals>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var n = columns.Count;
            if (reader.GetInt64(n) == 0)
            {
                continue; // an empty range still returns one ungrouped row of NULL sums
            }

            var group = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                group[query.GroupBy[i]] = Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture) ?? "";
            }

            totals.Add(new SpendTotals(group, reader.GetInt64(n), Long(reader, n + 1), Long(reader, n + 2), Long(reader, n + 3),
                Long(reader, n + 4), Long(reader, n + 5), Usd(Long(reader, n + 6)), Usd(Long(reader, n + 7)),
                reader.IsDBNull(n + 8) ? 0 : Convert.ToDouble(reader.GetValue(n + 8), CultureInfo.InvariantCulture), Long(reader, n + 9)));
        }

        return totals;
    }

    /// <summary>
    /// Each team's and each key's (as <see cref="Policies.TeamBudget.KeySubject"/>) spend since <paramref name="monthStart"/> and since
    /// <paramref name="dayStart"/>, to rebuild budget counters at start.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, (decimal Day, decimal Month)>> BudgetSpendAsync(DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT team, SUM(CASE WHEN at >= @day THEN cost_nusd ELSE 0 END), SUM(cost_nusd)
            FROM spend_ledger WHERE at >= @month GROUP BY team
            UNION ALL
            SELECT '{TeamBudget.KeyPrefix}' || key_id, SUM(CASE WHEN at >= @day THEN cost_nusd ELSE 0 END), SUM(cost_nusd)
            FROM spend_ledger WHERE at >= @month GROUP BY key_id
            """;
        command.With("@day", Time(dayStart)).With("@month", Time(monthStart));
        var spend = new Dictionary<string, (decimal, decimal)>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            spend[reader.GetString(0)] = (Usd(Long(reader, 1)), Usd(Long(reader, 2)));
        }

        return spend;
    }

    /// <summary>One recorded request as a replay reads it: who, when, what it used and cost, and the planner's facts.</summary>
    public sealed record LedgerRow(DateTimeOffset At, string Team, string KeyId, string Route, string Model, string? Category, int Status,
        Usage Usage, decimal CostUsd, string? DecisionFacts);

    /// <summary>Rows in [from, to), oldest first, streamed from the database (memory does not grow with the range).</summary>
    public async IAsyncEnumerable<LedgerRow> RowsAsync(DateTimeOffset from, DateTimeOffset to, string? team,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT at, team, key_id, route, model, category, status, prompt_tokens, completion_tokens, cached_prompt_tokens,
                usage_estimated, cost_nusd, decision_facts
            FROM spend_ledger WHERE at >= @from AND at < @to AND (@team = '' OR team = @team) ORDER BY at
            """;
        command.With("@from", Time(from)).With("@to", Time(to)).With("@team", team ?? "");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new LedgerRow(
                DateTimeOffset.Parse(reader.GetString(0), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                (int)Long(reader, 6),
                new Usage((int)Long(reader, 7), (int)Long(reader, 8), (int)Long(reader, 9), Long(reader, 10) == 1),
                Usd(Long(reader, 11)), reader.IsDBNull(12) ? null : reader.GetString(12));
        }
    }

    private static long Long(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? 0 : Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

}
