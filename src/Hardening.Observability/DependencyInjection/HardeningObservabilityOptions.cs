using Microsoft.AspNetCore.Http;

namespace Hardening.Observability;

/// <summary>Options of <c>AddHardeningObservability</c>.</summary>
public sealed class HardeningObservabilityOptions
{
    /// <summary>The Prometheus endpoint: meters, series limit, authorization.</summary>
    public PrometheusExporterOptions Prometheus { get; } = new();

    /// <summary>Per-tenant usage counters (off by default).</summary>
    public TenantUsageOptions TenantUsage { get; } = new();

    /// <summary>Thresholds and objectives of the alert presets (used by the diagnosis page).</summary>
    public AlertRuleOptions Alerts { get; } = new();

    /// <summary>Readiness checks.</summary>
    public ReadinessOptions Readiness { get; } = new();

    /// <summary>The diagnosis page.</summary>
    public DiagnosticsOptions Diagnostics { get; } = new();
}

/// <summary>Readiness checks and their JSON response.</summary>
public sealed class ReadinessOptions
{
    /// <summary>How long <c>SELECT 1</c> may take before PostgreSQL counts as down. Default 2 s.</summary>
    public TimeSpan PostgreSqlTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The version reported by the health and diagnosis pages. Default: the entry assembly's informational version.</summary>
    public string? Version { get; set; }

    /// <summary>
    /// Authorization policy whose members see the detail of <c>/health/live</c> and <c>/health/ready</c> (version,
    /// environment, durations, descriptions, error types and check data such as pool sizes). Everyone else, and everyone
    /// when this is null (the default), gets the overall status and each check's name and status only: the endpoints are
    /// anonymous for orchestrator probes, and the detail helps an attacker more than a probe. <c>/diagnostics</c> always
    /// shows the detail (it always requires authorization).
    /// </summary>
    public string? DetailPolicy { get; set; }

    /// <summary>A custom decision for the detail; when set it replaces <see cref="DetailPolicy"/>. Return true to show it.</summary>
    public Func<HttpContext, ValueTask<bool>>? ShowDetail { get; set; }
}

/// <summary>The <c>/diagnostics</c> page.</summary>
public sealed class DiagnosticsOptions
{
    /// <summary>Authorization policy for the page; null uses the app's default policy. The page always requires authorization.</summary>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>A custom authorization hook; when set it replaces the policy. Return false to answer 401.</summary>
    public Func<HttpContext, ValueTask<bool>>? Authorize { get; set; }

    /// <summary>How often the alert signals are sampled for in-process rule evaluation. Default 30 s.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The window of the "recent" histogram percentiles. Default 5 minutes.</summary>
    public TimeSpan PercentileWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Series listed per metric on the page; the page says how many more there were. Default 50.</summary>
    public int MaxSeriesPerMetric { get; set; } = 50;
}
