namespace Hardening.Rls;

/// <summary>The meter and instrument names Hardening.Rls publishes (for OpenTelemetry, dashboards and alert rules).</summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(RlsMeters.MeterName));
/// </code>
/// </example>
public static class RlsMeters
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of this package: <c>Hardening.Rls</c>.</summary>
    public const string MeterName = "Hardening.Rls";

    /// <summary>Observable gauge: findings of the latest lint run (<c>{finding}</c>), tagged <c>level</c> = <c>error</c> | <c>warning</c>.</summary>
    public const string LintFindings = "hardening.rls.lint.findings";

    /// <summary>Counter: requests refused with 403 because the tenant header disagreed with the tenant claim (<c>{request}</c>).</summary>
    public const string TenantMismatches = "hardening.rls.tenant.mismatches";
}
