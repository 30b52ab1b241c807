using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Gateway.Hosting;
using Gateway.Policies;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Gateway.Spend;

/// <summary>The <c>Alerts</c> section: where budget alerts are sent.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>An HTTPS (or loopback HTTP) URL that receives each alert as a JSON POST. Empty: alerts are only logged and counted.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Shared secret signing each delivery (<c>x-gateway-signature: sha256=HMAC(secret, timestamp + "." + body)</c>).</summary>
    public string? Secret { get; set; }

    /// <summary>Attempts after the first when the receiver fails or does not answer 2xx (default 5).</summary>
    public int Retries { get; set; } = 5;

    /// <summary>First delay between attempts, doubled each time with jitter (default 2 s).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>A budget crossing one of its <c>alert_at</c> thresholds, as the webhook receives it.</summary>
public sealed record BudgetAlert(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("team")] string Team,
    [property: JsonPropertyName("period")] string Period,
    [property: JsonPropertyName("period_start")] string PeriodStart,
    [property: JsonPropertyName("threshold")] decimal Threshold,
    [property: JsonPropertyName("spent_usd")] decimal SpentUsd,
    [property: JsonPropertyName("limit_usd")] decimal LimitUsd,
    [property: JsonPropertyName("on_exceed")] string OnExceed,
    [property: JsonPropertyName("at")] DateTimeOffset At);

/// <summary>
/// Budget alerts before the cliff: when a team's spend crosses a share of its daily or monthly limit (<c>alert_at</c>,
/// 50/80/100% by default), the alert fires once per period — claimed in the gateway's database, so replicas sharing it
/// and restarts do not repeat it — is logged, counted (<c>gateway_budget_alerts_total</c>) and POSTed to
/// <c>Alerts:WebhookUrl</c>, signed and retried. Detection never waits for delivery.
/// </summary>
public sealed class BudgetAlerts(
    GatewayDatabase database,
    IOptions<AlertOptions> options,
    Telemetry.GatewayMetrics metrics,
    TimeProvider timeProvider,
    ILogger<BudgetAlerts> logger) : BackgroundService
{
    /// <summary>Schema step 5: which budget thresholds have fired, claimed once per team, period and threshold.</summary>
    internal static readonly SchemaMigration[] Migrations = [new(5, "budget_alerts", (change, ct) => change.ExecuteAsync(Schema, ct))];

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS budget_alerts (
            team TEXT NOT NULL,
            period TEXT NOT NULL,
            period_start TEXT NOT NULL,
            threshold TEXT NOT NULL,
            fired_at TEXT NOT NULL,
            PRIMARY KEY (team, period, period_start, threshold));
        """;

    private readonly Channel<BudgetAlert> _queue = Channel.CreateBounded<BudgetAlert>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    /// <summary>Queues an alert for every threshold that <paramref name="before"/> → <paramref name="after"/> crossed.</summary>
    public void Crossed(TeamBudget budget, string period, decimal? limit, decimal before, decimal after, DateTime at)
    {
        if (limit is not { } max || max <= 0)
        {
            return;
        }

        foreach (var threshold in budget.AlertAt)
        {
            if (before < max * threshold && after >= max * threshold)
            {
                var start = period == "daily" ? at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : at.ToString("yyyy-MM", CultureInfo.InvariantCulture);
                _queue.Writer.TryWrite(new BudgetAlert("budget.threshold", budget.Team, period, start, threshold, after, max,
                    budget.OnExceed == BudgetAction.Reject ? "reject" : "downgrade", timeProvider.GetUtcNow()));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var retry = settings.Retries == 0 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = settings.Retries,
            Delay = settings.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TaskCanceledException>(),
        }).Build();
        await foreach (var alert in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                if (!await ClaimAsync(alert, stoppingToken))
                {
                    continue; // another replica, or this one before a restart, already fired it
                }

                Telemetry.Log.BudgetAlert(logger, alert.Team, alert.Period, alert.Threshold, alert.SpentUsd, alert.LimitUsd);
                var delivery = settings.WebhookUrl is not { Length: > 0 } url ? "no_webhook"
                    : await DeliverAsync(retry, url, settings.Secret, alert, stoppingToken) ? "sent" : "failed";
                metrics.BudgetAlert(alert.Team, alert.Period, alert.Threshold, delivery);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                metrics.BudgetAlert(alert.Team, alert.Period, alert.Threshold, "failed");
                Telemetry.Log.BudgetAlertFailed(logger, alert.Team, alert.Period, alert.Threshold, ex.Message);
            }
        }
    }

    private async Task<bool> DeliverAsync(ResiliencePipeline retry, string url, string? secret, BudgetAlert alert, CancellationToken cancellationToken)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(alert);
        try
        {
            await retry.ExecuteAsync(async token =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                var timestamp = timeProvider.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                request.Headers.Add("x-gateway-timestamp", timestamp);
                if (secret is { Length: > 0 })
                {
                    request.Headers.Add("x-gateway-signature", "sha256=" + Sign(secret, timestamp, body));
                }

                using var response = await _http.SendAsync(request, token);
                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"the webhook answered {(int)response.StatusCode}", null, response.StatusCode);
                }
            }, cancellationToken);
            return true;
        }
        catch (HttpRequestException ex)
        {
            Telemetry.Log.BudgetAlertFailed(logger, alert.Team, alert.Period, alert.Threshold, ex.Message);
            return false;
        }
    }

    /// <summary>HMAC-SHA256 of <c>timestamp.body</c> in hex: what a receiver recomputes to trust the alert (and reject replays by the timestamp).</summary>
    public static string Sign(string secret, string timestamp, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body)));

    private async Task<bool> ClaimAsync(BudgetAlert alert, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO budget_alerts (team, period, period_start, threshold, fired_at) VALUES (@team, @period, @start, @threshold, @at)
            ON CONFLICT (team, period, period_start, threshold) DO NOTHING;
            """;
        insert.With("@team", alert.Team).With("@period", alert.Period).With("@start", alert.PeriodStart)
            .With("@threshold", alert.Threshold.ToString(CultureInfo.InvariantCulture)).With("@at", SpendLedgerStore.Time(alert.At));
        return await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
