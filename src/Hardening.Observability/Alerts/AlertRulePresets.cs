using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>
/// The alert rules an ATS on the Hardening packages needs, as typed definitions: résumé backlog, OCR failures and
/// fallbacks, ingestion failure rate, login and token attacks, replays, RLS misconfiguration, SSE delivery lag,
/// PostgreSQL and Redis down, and multi-window burn-rate SLO alerts for availability and latency.
/// </summary>
/// <example>
/// <code>
/// var rules = AlertRulePresets.Create(new AlertRuleOptions { AvailabilityObjective = 0.995 });
/// File.WriteAllText("hardening.rules.yml", PrometheusRuleFile.Render(rules));
/// </code>
/// </example>
public static class AlertRulePresets
{
    /// <summary>The metric the SLO alerts read: ASP.NET Core's <c>http.server.request.duration</c> in Prometheus form.</summary>
    public const string HttpDurationMetric = "http_server_request_duration_seconds";

    /// <summary>Creates the preset rules.</summary>
    public static IReadOnlyList<AlertRule> Create(AlertRuleOptions? options = null)
    {
        options ??= new AlertRuleOptions();
        options.Validate();
        string Runbook(string name) => new Uri(options.RunbookBaseUrl, name.ToLowerInvariant()).ToString();
        AlertRule Rule(string name, AlertCondition condition, TimeSpan forDuration, AlertSeverity severity, string summary, string description) =>
            new(name, condition, forDuration, severity, summary, description, Runbook(name));
        var m = TimeSpan.FromMinutes(1);

        var failures = new Selector("hardening_ingestion_failures_total");
        var resumes = new Selector("hardening_ingestion_resumes_total");
        var ingestionRatio = new CounterRatio(failures, resumes, "hardening_ingestion_failures_total{reason=\"corrupt\"}", "hardening_ingestion_resumes_total", otherIsGood: false);
        var ocrRatio = new CounterRatio(new Selector("hardening_ingestion_ocr_fallbacks_total"), resumes, "hardening_ingestion_ocr_fallbacks_total", "hardening_ingestion_resumes_total", otherIsGood: false);
        var availability = new CounterRatio(
            new Selector(HttpDurationMetric + "_count", new LabelMatcher("http_response_status_code", "5..", IsRegex: true)),
            new Selector(HttpDurationMetric + "_count"),
            HttpDurationMetric + "_count{http_response_status_code=\"500\"}",
            HttpDurationMetric + "_count{http_response_status_code=\"200\"}",
            otherIsGood: true);
        var latency = new LatencyRatio(HttpDurationMetric, options.LatencyThresholdSeconds);
        IReadOnlyList<(TimeSpan, TimeSpan, double)> page = [(TimeSpan.FromHours(1), 5 * m, 14.4), (TimeSpan.FromHours(6), 30 * m, 6)];
        IReadOnlyList<(TimeSpan, TimeSpan, double)> ticket = [(TimeSpan.FromDays(1), TimeSpan.FromHours(2), 3), (TimeSpan.FromDays(3), TimeSpan.FromHours(6), 1)];
        var availabilityBudget = 1 - options.AvailabilityObjective;
        var latencyBudget = 1 - options.LatencyObjective;
        var objective = options.AvailabilityObjective.ToString("0.###%", System.Globalization.CultureInfo.InvariantCulture);
        var latencyObjective = options.LatencyObjective.ToString("0.###%", System.Globalization.CultureInfo.InvariantCulture);
        var latencyMs = (options.LatencyThresholdSeconds * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);

        return
        [
            Rule("HardeningResumeBacklogHigh",
                new GaugeThreshold(new Selector("hardening_ingestion_queue_depth"), "max", "queue", above: true, options.ResumeBacklogThreshold,
                    new ExampleSeries("hardening_ingestion_queue_depth{queue=\"resumes\"}", "")),
                5 * m, AlertSeverity.Ticket,
                "Résumé queue {{ $labels.queue }} is backing up",
                $"More than {AlertCondition.Number(options.ResumeBacklogThreshold)} résumés have waited in queue {{{{ $labels.queue }}}} for 5 minutes. Check the parser workers (crashed, scaled to zero, stuck on one file) and the parse-duration histogram."),
            Rule("HardeningOcrFailureSpike",
                new RateThreshold(new Selector("hardening_ingestion_failures_total", new LabelMatcher("reason", "ocr_failed")), 5 * m, options.OcrFailuresPerSecond,
                    "hardening_ingestion_failures_total{reason=\"ocr_failed\"}"),
                10 * m, AlertSeverity.Ticket,
                "OCR is failing on résumés",
                $"More than {AlertCondition.Number(options.OcrFailuresPerSecond)} OCR failures per second for 10 minutes. Check the OCR engine (process up, language data present, memory) and whether one uploader sends broken scans."),
            Rule("HardeningOcrFallbackRateHigh",
                new RatioThreshold(ocrRatio, 30 * m, options.OcrFallbackRatio),
                30 * m, AlertSeverity.Ticket,
                "Most résumés fall back to OCR",
                $"More than {AlertCondition.Number(options.OcrFallbackRatio * 100)}% of résumés had no text layer over 30 minutes. Usually a text extractor regression or a bulk import of scans; OCR is slow, so expect backlog."),
            Rule("HardeningIngestionFailureRateHigh",
                new RatioThreshold(ingestionRatio, 15 * m, options.IngestionFailureRatio),
                15 * m, AlertSeverity.Ticket,
                "Résumé ingestion is failing",
                $"More than {AlertCondition.Number(options.IngestionFailureRatio * 100)}% of résumés failed ingestion over 15 minutes. Break it down with sum by (reason) (rate(hardening_ingestion_failures_total[15m]))."),
            Rule("HardeningLoginFailureSpike",
                new RateThreshold(new Selector("hardening_auth_login_failures_total"), 5 * m, options.LoginFailuresPerSecond, "hardening_auth_login_failures_total"),
                5 * m, AlertSeverity.Page,
                "Login failures spike: possible credential stuffing",
                $"More than {AlertCondition.Number(options.LoginFailuresPerSecond)} failed logins per second for 5 minutes. Check hardening_auth_login_throttled_total by scope, the source addresses in the security log, and consider tightening throttling."),
            Rule("HardeningTokenRejectionSpike",
                new RateThreshold(new Selector("hardening_auth_token_rejected_total"), 5 * m, options.TokenRejectionsPerSecond, "hardening_auth_token_rejected_total{reason=\"bad_signature\"}"),
                10 * m, AlertSeverity.Ticket,
                "Many tokens are being rejected",
                $"More than {AlertCondition.Number(options.TokenRejectionsPerSecond)} token rejections per second for 10 minutes. By reason: expired/not_yet_valid suggest clock skew, bad_signature/bad_issuer a key rotation or forged tokens."),
            Rule("HardeningTokenReplayDetected",
                new RateThreshold(new Selector("hardening_auth_token_rejected_total", new LabelMatcher("reason", "replayed")), 5 * m, 0,
                    "hardening_auth_token_rejected_total{reason=\"replayed\"}"),
                TimeSpan.Zero, AlertSeverity.Page,
                "A single-use token was replayed",
                "A token whose jti was already consumed was presented again in the last 5 minutes: a stolen or leaked token. Find the event in the security log (EventId of ReplayDetected) and revoke the user's sessions."),
            Rule("HardeningReplayStoreErrors",
                new RateThreshold(new Selector("hardening_auth_replay_store_errors_total"), 5 * m, 0, "hardening_auth_replay_store_errors_total"),
                5 * m, AlertSeverity.Page,
                "The token replay store is failing",
                "The replay guard could not reach its store for 5 minutes; with the default fail-closed setting, token logins are being refused. Check Redis."),
            Rule("HardeningRlsMisconfigured",
                new GaugeThreshold(new Selector("hardening_rls_lint_findings", new LabelMatcher("level", "error")), "sum", null, above: true, 0,
                    new ExampleSeries("hardening_rls_lint_findings{level=\"error\"}", "")),
                TimeSpan.Zero, AlertSeverity.Page,
                "Row-level security is misconfigured",
                "The RLS linter reports error findings (a tenant table without RLS, FORCE missing, or a policy that does not use the tenant setting): tenant isolation may be broken. Run the linter report and fix the migration."),
            Rule("HardeningRlsTenantMismatch",
                new RateThreshold(new Selector("hardening_rls_tenant_mismatches_total"), 5 * m, 0, "hardening_rls_tenant_mismatches_total"),
                TimeSpan.Zero, AlertSeverity.Ticket,
                "Requests asked for another tenant",
                "Hardening.Rls refused requests whose tenant header disagreed with the tenant claim in the last 5 minutes: a client bug, or someone probing other tenants' data. The requests were refused; find the callers in the log."),
            Rule("HardeningSseDeliveryLagHigh",
                new QuantileThreshold("hardening_sse_delivery_lag_seconds", 0.99, 5 * m, options.SseDeliveryLagSeconds),
                10 * m, AlertSeverity.Ticket,
                "Server-Sent Events are delivered late",
                $"p99 delivery lag above {AlertCondition.Number(options.SseDeliveryLagSeconds)} s for 10 minutes. Check the Redis backplane, slow-consumer disconnects and CPU."),
            Rule("HardeningPostgresDown",
                new GaugeThreshold(new Selector("hardening_health_check_status", new LabelMatcher("check", HealthCheckNames.PostgreSql)), "min", "check", above: false, 0.5,
                    new ExampleSeries("hardening_health_check_status{check=\"postgresql\"}", "")),
                2 * m, AlertSeverity.Page,
                "PostgreSQL is unreachable",
                "The readiness check {{ $labels.check }} has failed for 2 minutes: SELECT 1 through the app's data source does not answer. Check the server, the network, and pool exhaustion (the check's pool numbers)."),
            Rule("HardeningRedisDown",
                new GaugeThreshold(new Selector("hardening_health_check_status", new LabelMatcher("check", string.Join('|', HealthCheckNames.RedisBacked), IsRegex: true)), "min", "check", above: false, 0.5,
                    new ExampleSeries($"hardening_health_check_status{{check=\"{HealthCheckNames.TokenReplayStore}\"}}", "")),
                2 * m, AlertSeverity.Page,
                "Redis is unreachable",
                "The readiness check {{ $labels.check }} has failed for 2 minutes: its Redis store does not answer PING, or a setting lets it forget what it keeps (the check's description says which). Replay guards, throttling and the SSE backplane depend on it."),
            Rule("HardeningAvailabilityBurnRatePage",
                new BurnRate(availability, availabilityBudget, page), 2 * m, AlertSeverity.Page,
                "Error budget burning fast (availability)",
                $"5xx responses are consuming the {objective} availability budget at 14.4x (1h/5m) or 6x (6h/30m) the sustainable rate: 2% or 5% of the 30-day budget already gone."),
            Rule("HardeningAvailabilityBurnRateTicket",
                new BurnRate(availability, availabilityBudget, ticket), 15 * m, AlertSeverity.Ticket,
                "Error budget burning (availability)",
                $"5xx responses are consuming the {objective} availability budget at 3x (1d/2h) or 1x (3d/6h) the sustainable rate."),
            Rule("HardeningLatencyBurnRatePage",
                new BurnRate(latency, latencyBudget, page), 2 * m, AlertSeverity.Page,
                "Error budget burning fast (latency)",
                $"Requests slower than {latencyMs} ms are consuming the {latencyObjective} latency budget at 14.4x (1h/5m) or 6x (6h/30m) the sustainable rate."),
            Rule("HardeningLatencyBurnRateTicket",
                new BurnRate(latency, latencyBudget, ticket), 15 * m, AlertSeverity.Ticket,
                "Error budget burning (latency)",
                $"Requests slower than {latencyMs} ms are consuming the {latencyObjective} latency budget at 3x (1d/2h) or 1x (3d/6h) the sustainable rate."),
        ];
    }
}
