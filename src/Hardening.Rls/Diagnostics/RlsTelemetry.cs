namespace Hardening.Rls;

/// <summary>Names under which Hardening.Rls publishes its metrics.</summary>
/// <remarks>
/// On the meter <see cref="MeterName"/>: the observable gauge <c>hardening.rls.lint.findings</c> (unit
/// <c>{finding}</c>, tag <c>level</c> = <c>error</c> | <c>warning</c>; the counts of the latest lint run) and the
/// counter <c>hardening.rls.tenant.mismatches</c> (unit <c>{request}</c>; requests refused with 403 because the
/// client-supplied tenant header disagreed with the authenticated tenant claim).
/// </remarks>
public static class RlsTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of this package: <c>Hardening.Rls</c>.</summary>
    public const string MeterName = "Hardening.Rls";

    /// <summary>Observable gauge: findings of the latest lint run, tagged <c>level</c>.</summary>
    public const string LintFindings = "hardening.rls.lint.findings";

    /// <summary>Counter: requests refused because the tenant header disagreed with the tenant claim.</summary>
    public const string TenantMismatches = "hardening.rls.tenant.mismatches";
}
