namespace Hardening.Observability;

/// <summary>Thresholds and objectives of the alert-rule presets.</summary>
public sealed class AlertRuleOptions
{
    /// <summary>Prefix of every runbook link; the alert name is appended. Default <c>https://runbooks.example.com/hardening/</c>.</summary>
    public Uri RunbookBaseUrl { get; set; } = new("https://runbooks.example.com/hardening/");

    /// <summary>Résumés waiting in one queue before the backlog alert (held 5 minutes). Default 100.</summary>
    public double ResumeBacklogThreshold { get; set; } = 100;

    /// <summary>OCR failures per second (5-minute rate) that count as a spike. Default 0.05 (3 a minute).</summary>
    public double OcrFailuresPerSecond { get; set; } = 0.05;

    /// <summary>Share of résumés whose ingestion fails (15-minute window) before alerting. Default 0.05.</summary>
    public double IngestionFailureRatio { get; set; } = 0.05;

    /// <summary>Share of résumés falling back to OCR (30-minute window) before alerting. Default 0.5.</summary>
    public double OcrFallbackRatio { get; set; } = 0.5;

    /// <summary>Failed logins per second (5-minute rate) that count as an attack. Default 1.</summary>
    public double LoginFailuresPerSecond { get; set; } = 1;

    /// <summary>Rejected tokens per second (5-minute rate) that count as a spike. Default 1.</summary>
    public double TokenRejectionsPerSecond { get; set; } = 1;

    /// <summary>p99 SSE delivery lag, in seconds, before alerting. Default 2.</summary>
    public double SseDeliveryLagSeconds { get; set; } = 2;

    /// <summary>Availability objective: the share of HTTP requests that must not answer 5xx. Default 0.999.</summary>
    public double AvailabilityObjective { get; set; } = 0.999;

    /// <summary>Latency objective: the share of HTTP requests that must finish within <see cref="LatencyThresholdSeconds"/>. Default 0.99.</summary>
    public double LatencyObjective { get; set; } = 0.99;

    /// <summary>
    /// The latency SLO threshold in seconds; must be a bucket boundary of <c>http.server.request.duration</c>
    /// (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10). Default 0.5.
    /// </summary>
    public double LatencyThresholdSeconds { get; set; } = 0.5;

    internal void Validate()
    {
        static void Positive(double value, string name)
        {
            if (!(value > 0) || double.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(name, value, $"AlertRuleOptions.{name} must be a positive number.");
            }
        }

        Positive(ResumeBacklogThreshold, nameof(ResumeBacklogThreshold));
        Positive(OcrFailuresPerSecond, nameof(OcrFailuresPerSecond));
        Positive(LoginFailuresPerSecond, nameof(LoginFailuresPerSecond));
        Positive(TokenRejectionsPerSecond, nameof(TokenRejectionsPerSecond));
        Positive(SseDeliveryLagSeconds, nameof(SseDeliveryLagSeconds));
        foreach (var (value, name) in new[] { (IngestionFailureRatio, nameof(IngestionFailureRatio)), (OcrFallbackRatio, nameof(OcrFallbackRatio)) })
        {
            if (!(value > 0 && value < 1))
            {
                throw new ArgumentOutOfRangeException(name, value, $"AlertRuleOptions.{name} must be between 0 and 1 (exclusive).");
            }
        }

        foreach (var (value, name) in new[] { (AvailabilityObjective, nameof(AvailabilityObjective)), (LatencyObjective, nameof(LatencyObjective)) })
        {
            if (!(value > 0.5 && value < 1))
            {
                throw new ArgumentOutOfRangeException(name, value, $"AlertRuleOptions.{name} must be between 0.5 and 1 (exclusive), such as 0.999.");
            }
        }

        if (!HttpDurationBuckets.Contains(LatencyThresholdSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(LatencyThresholdSeconds), LatencyThresholdSeconds,
                $"AlertRuleOptions.LatencyThresholdSeconds must be a bucket boundary of http.server.request.duration: {string.Join(", ", HttpDurationBuckets)}.");
        }

        if (!RunbookBaseUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("AlertRuleOptions.RunbookBaseUrl must be an absolute URL.", nameof(RunbookBaseUrl));
        }
    }

    internal static readonly double[] HttpDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
}
