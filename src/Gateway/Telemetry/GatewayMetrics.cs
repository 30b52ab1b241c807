using System.Globalization;
using Gateway.Classification;
using Gateway.Spend;
using Prometheus;

namespace Gateway.Telemetry;

/// <summary>
/// Owns the gateway's metrics registry and every instrument. Metric and label names are constants
/// here; label values come from bounded sets (routes, models and teams from configuration, status
/// codes), never from request content.
/// </summary>
public sealed class GatewayMetrics
{
    public static class Names
    {
        public const string Requests = "gateway_requests_total";
        public const string Tokens = "gateway_tokens_total";
        public const string Spend = "gateway_spend_usd_total";
        public const string KeySpend = "gateway_key_spend_usd_total";
        public const string KeyRequests = "gateway_key_requests_total";
        public const string CounterfactualSpend = "gateway_counterfactual_spend_usd_total";
        public const string RequestDuration = "gateway_request_duration_seconds";
        public const string TimeToFirstByte = "gateway_time_to_first_byte_seconds";
        public const string UpstreamErrors = "gateway_upstream_errors_total";
        public const string Fallbacks = "gateway_fallbacks_total";
        public const string UpstreamRetries = "gateway_upstream_retries_total";
        public const string ExpectedQuality = "gateway_expected_quality_total";
        public const string ReferenceQuality = "gateway_reference_quality_total";
        public const string QualityRated = "gateway_quality_rated_requests_total";
        public const string UpstreamCircuit = "gateway_upstream_circuit_state";
        public const string Classifications = "gateway_classifications_total";
        public const string NeedsStrong = "gateway_classifier_needs_strong";
        public const string ClassifierReloads = "gateway_classifier_reloads_total";
        public const string ClassifierInfo = "gateway_classifier_model_info";
        public const string Decisions = "gateway_route_decisions_total";
        public const string ClassifierDuration = "gateway_classifier_duration_seconds";
        public const string DecisionDuration = "gateway_policy_decision_duration_seconds";
        public const string PolicyReloads = "gateway_policy_reloads_total";
        public const string PolicyInfo = "gateway_policy_info";
        public const string LedgerPending = "gateway_ledger_pending_records";
        public const string UsageEstimatedCount = "gateway_usage_estimated_total";
        public const string SharedStateErrors = "gateway_shared_state_errors_total";
        public const string BudgetAlerts = "gateway_budget_alerts_total";
        public const string LedgerWrites = "gateway_ledger_records_written_total";
        public const string BudgetSpent = "gateway_budget_spent_usd";
        public const string BudgetLimit = "gateway_budget_limit_usd";
        public const string BudgetRemaining = "gateway_budget_remaining_usd";
    }

    public static class Labels
    {
        public const string Route = "route";
        public const string Model = "model";
        public const string Team = "team";
        public const string Key = "key";
        public const string Status = "status";
        public const string Direction = "direction";
        public const string Upstream = "upstream";
        public const string Reason = "reason";
        public const string From = "from_route";
        public const string To = "to_route";
        public const string Category = "category";
        public const string Result = "result";
        public const string Version = "version";
        public const string Via = "via";
        public const string Rule = "rule";
        public const string Period = "period";
        public const string Operation = "operation";
    }

    private static readonly double[] LatencyBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Counter _requests;
    private readonly Counter _tokens;
    private readonly Counter _spend;
    private readonly Counter _counterfactual;
    private readonly Histogram _duration;
    private readonly Histogram _ttfb;
    private readonly Counter _upstreamErrors;
    private readonly Counter _fallbacks;
    private readonly Counter _upstreamRetries;
    private readonly Counter _expectedQuality;
    private readonly Counter _referenceQuality;
    private readonly Counter _qualityRated;
    private readonly Gauge _upstreamCircuit;
    private readonly Counter _classifications;
    private readonly Histogram _needsStrong;
    private readonly Counter _classifierReloads;
    private readonly Gauge _classifierInfo;
    private readonly Counter _decisions;
    private readonly Histogram _classifierDuration;
    private readonly Histogram _decisionDuration;
    private readonly Counter _policyReloads;
    private readonly Gauge _policyInfo;
    private readonly Gauge _ledgerPending;
    private readonly Counter _usageEstimated;
    private readonly Counter _sharedStateErrors;
    private readonly Counter _keySpend;
    private readonly Counter _budgetAlerts;
    private readonly Counter _keyRequests;
    private readonly Counter _ledgerWrites;
    private readonly Gauge _budgetSpent;
    private readonly Gauge _budgetLimit;
    private readonly Gauge _budgetRemaining;

    public GatewayMetrics()
    {
        // A registry per gateway instance: tests run several gateways in one process.
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter(Names.Requests, "Requests that passed authentication, by outcome; category is the classifier's (none when not classified).",
            Labels.Route, Labels.Model, Labels.Team, Labels.Category, Labels.Status, Labels.Operation);
        _tokens = factory.CreateCounter(Names.Tokens, "Tokens consumed; direction is input or output.",
            Labels.Route, Labels.Model, Labels.Team, Labels.Direction);
        _spend = factory.CreateCounter(Names.Spend, "Spend in USD at the policy's prices.",
            Labels.Route, Labels.Model, Labels.Team);
        _counterfactual = factory.CreateCounter(Names.CounterfactualSpend,
            "What the same usage would have cost on the policy's reference route, in USD.",
            Labels.Route, Labels.Model, Labels.Team);
        _duration = factory.CreateHistogram(Names.RequestDuration, "Time from request start to the end of the response.",
            new HistogramConfiguration { LabelNames = [Labels.Route], Buckets = LatencyBuckets });
        _ttfb = factory.CreateHistogram(Names.TimeToFirstByte, "Time from routing to the first response body byte.",
            new HistogramConfiguration { LabelNames = [Labels.Route], Buckets = LatencyBuckets });
        _upstreamErrors = factory.CreateCounter(Names.UpstreamErrors, "Failed upstream attempts by upstream and failure kind.",
            Labels.Upstream, Labels.Reason);
        _fallbacks = factory.CreateCounter(Names.Fallbacks, "Requests moved from one route to its fallback.",
            Labels.From, Labels.To);
        _upstreamRetries = factory.CreateCounter(Names.UpstreamRetries, "Attempts repeated on the same upstream before any fallback, by the failure that caused them.",
            Labels.Upstream, Labels.Reason);
        _expectedQuality = factory.CreateCounter(Names.ExpectedQuality,
            "Sum of the expected quality (0-1, as the policy rates it) of the route that served each rated request.", Labels.Team, Labels.Route);
        _referenceQuality = factory.CreateCounter(Names.ReferenceQuality,
            "Sum of the expected quality the policy's reference route would have had for the same requests.", Labels.Team, Labels.Route);
        _qualityRated = factory.CreateCounter(Names.QualityRated,
            "Requests with both qualities rated: divide the difference of the two sums by this for the mean expected quality change.", Labels.Team, Labels.Route);
        _upstreamCircuit = factory.CreateGauge(Names.UpstreamCircuit, "Circuit breaker per upstream deployment: 0 closed (serving), 1 half-open (probing), 2 open (skipped).",
            Labels.Upstream, "deployment");
        _classifications = factory.CreateCounter(Names.Classifications, "Prompts classified, by predicted category.",
            Labels.Category);
        _needsStrong = factory.CreateHistogram(Names.NeedsStrong, "The classifier's needs_strong probability per prompt.",
            new HistogramConfiguration { Buckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] });
        _classifierReloads = factory.CreateCounter(Names.ClassifierReloads, "Classifier model reloads after the file changed; result is ok or failed.",
            Labels.Result);
        _classifierInfo = factory.CreateGauge(Names.ClassifierInfo, "1 for the classifier model version serving now.",
            Labels.Version);
        _decisions = factory.CreateCounter(Names.Decisions, "Routing decisions by chosen route, what decided (rule, pinned, objective, default, budget, model) and the deciding rule.",
            Labels.Route, Labels.Via, Labels.Rule);
        double[] fast = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01];
        _classifierDuration = factory.CreateHistogram(Names.ClassifierDuration, "Time to classify one prompt (featurize + ONNX run).",
            new HistogramConfiguration { Buckets = fast });
        _decisionDuration = factory.CreateHistogram(Names.DecisionDuration, "Time for one routing decision (rules + objective).",
            new HistogramConfiguration { Buckets = fast });
        _policyReloads = factory.CreateCounter(Names.PolicyReloads, "Policy changes applied or refused; result is ok or failed, source is file, api or rollback.",
            Labels.Result, "source");
        _policyInfo = factory.CreateGauge(Names.PolicyInfo, "1 for the policy version serving now.", Labels.Version);
        _budgetAlerts = factory.CreateCounter(Names.BudgetAlerts,
            "Budget alerts fired (once per team, period and threshold); delivery is sent, failed (after retries) or no_webhook.",
            Labels.Team, Labels.Period, "threshold", "delivery");
        _keySpend = factory.CreateCounter(Names.KeySpend, "Spend in USD by client key (its name), for per-key views; one series per key.", Labels.Team, Labels.Key);
        _keyRequests = factory.CreateCounter(Names.KeyRequests, "Requests by client key (its name) and status class (2xx, 4xx, 5xx).", Labels.Team, Labels.Key, Labels.Status);
        _sharedStateErrors = factory.CreateCounter(Names.SharedStateErrors,
            "Redis operations (budget reservations, rate limits) that failed; the request then used this replica's counters or was refused, per Redis:FailOpen.",
            Labels.Operation);
        _usageEstimated = factory.CreateCounter(Names.UsageEstimatedCount, "Requests whose route reported no usage: the gateway counted the tokens (o200k) and flagged the ledger row.", Labels.Route);
        _ledgerPending = factory.CreateGauge(Names.LedgerPending, "Spend records accepted but not yet committed to the ledger.");
        _ledgerWrites = factory.CreateCounter(Names.LedgerWrites, "Spend records written to the ledger; result ok or failed (failed ones are retried).", Labels.Result);
        _budgetSpent = factory.CreateGauge(Names.BudgetSpent, "Team spend recorded in the current budget period (UTC day or month); requests still in flight are not included.", Labels.Team, Labels.Period);
        _budgetLimit = factory.CreateGauge(Names.BudgetLimit, "Team budget for the period, from the policy.", Labels.Team, Labels.Period);
        _budgetRemaining = factory.CreateGauge(Names.BudgetRemaining, "Team budget left in the period (never below 0).", Labels.Team, Labels.Period);
    }

    public CollectorRegistry Registry { get; }

    public void RecordRequest(SpendRecord record)
    {
        var status = record.Status.ToString(CultureInfo.InvariantCulture);
        _requests.Labelled(record.Route, record.Model, record.Team, record.Category ?? "none", status, record.Operation ?? "").Inc();
        _keyRequests.Labelled(record.Team, record.KeyId, StatusClass(record.Status)).Inc();
        _duration.Labelled(record.Route).Observe(record.Latency.TotalSeconds);
        if (record.TimeToFirstByte is { } ttfb)
        {
            _ttfb.Labelled(record.Route).Observe(ttfb.TotalSeconds);
        }

        if (record.Usage is { } usage)
        {
            _tokens.Labelled(record.Route, record.Model, record.Team, "input").Inc(usage.PromptTokens);
            _tokens.Labelled(record.Route, record.Model, record.Team, "output").Inc(usage.CompletionTokens);
            _spend.Labelled(record.Route, record.Model, record.Team).Inc((double)record.CostUsd);
            _keySpend.Labelled(record.Team, record.KeyId).Inc((double)record.CostUsd);
            if (record.CounterfactualCostUsd is { } counterfactual)
            {
                _counterfactual.Labelled(record.Route, record.Model, record.Team).Inc((double)counterfactual);
            }

            if (record is { ExpectedQuality: { } expected, ReferenceQuality: { } reference })
            {
                _expectedQuality.Labelled(record.Team, record.Route).Inc(expected);
                _referenceQuality.Labelled(record.Team, record.Route).Inc(reference);
                _qualityRated.Labelled(record.Team, record.Route).Inc();
            }
        }
    }

    public void UpstreamError(string upstream, string reason) => _upstreamErrors.Labelled(upstream, reason).Inc();

    public void Fallback(string fromRoute, string toRoute) => _fallbacks.Labelled(fromRoute, toRoute).Inc();

    public void UpstreamRetry(string upstream, string reason) => _upstreamRetries.Labelled(upstream, reason).Inc();

    public void UpstreamCircuit(string upstream, string deployment, int state) => _upstreamCircuit.Labelled(upstream, deployment).Set(state);

    /// <summary>Category labels come from the model's fixed label list, never from the prompt.</summary>
    public void Classified(PromptClassification classification)
    {
        _classifications.Labelled(classification.Category).Inc();
        _needsStrong.Observe(classification.NeedsStrong);
    }

    public void ClassifierTime(TimeSpan elapsed) => _classifierDuration.Observe(elapsed.TotalSeconds);

    public void DecisionTime(TimeSpan elapsed) => _decisionDuration.Observe(elapsed.TotalSeconds);

    /// <summary>Route and rule names come from the policy, a bounded set admins control.</summary>
    public void Decided(Routing.RouteDecision decision) =>
        _decisions.Labelled(decision.Route.Name, decision.Via, decision.Rule ?? "").Inc();

    public void PolicyReload(bool succeeded, string source) => _policyReloads.Labelled(succeeded ? "ok" : "failed", source).Inc();

    public void PolicyApplied(string version)
    {
        foreach (var labels in _policyInfo.GetAllLabelValues())
        {
            _policyInfo.RemoveLabelled(labels);
        }

        _policyInfo.Labelled(version).Set(1);
    }

    public void UsageEstimated(string route) => _usageEstimated.Labelled(route).Inc();

    public void BudgetAlert(string team, string period, decimal threshold, string delivery) =>
        _budgetAlerts.Labelled(team, period, threshold.ToString(CultureInfo.InvariantCulture), delivery).Inc();

    public void SharedStateError(string operation) => _sharedStateErrors.Labelled(operation).Inc();

    public void LedgerPending(int pending) => _ledgerPending.Set(pending);

    public void LedgerWritten(int records, bool succeeded) => _ledgerWrites.Labelled(succeeded ? "ok" : "failed").Inc(records);

    /// <summary>Teams come from the policy's budgets (admin-controlled, bounded).</summary>
    public void Budget(string team, string period, decimal spent, decimal limit)
    {
        _budgetSpent.Labelled(team, period).Set((double)spent);
        _budgetLimit.Labelled(team, period).Set((double)limit);
        _budgetRemaining.Labelled(team, period).Set((double)Math.Max(0, limit - spent));
    }

    public void ClassifierReload(bool succeeded) => _classifierReloads.Labelled(succeeded ? "ok" : "failed").Inc();

    public void ClassifierLoaded(string version)
    {
        foreach (var labels in _classifierInfo.GetAllLabelValues())
        {
            _classifierInfo.RemoveLabelled(labels);
        }

        _classifierInfo.Labelled(version).Set(1);
    }

    private static string StatusClass(int status) => status switch
    {
        < 200 => "1xx",
        < 300 => "2xx",
        < 400 => "3xx",
        < 500 => "4xx",
        _ => "5xx",
    };
}

internal static class LabelledChildren
{
    /// <summary>
    /// The child for these label values through prometheus-net's span overload, which finds an existing child without
    /// the array that <c>WithLabels(params string[])</c> allocates on every call.
    /// </summary>
    public static TChild Labelled<TChild>(this Collector<TChild> metric, params ReadOnlySpan<string> labelValues)
        where TChild : ChildBase => metric.WithLabels(labelValues);
}
