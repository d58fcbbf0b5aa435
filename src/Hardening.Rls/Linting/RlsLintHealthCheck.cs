using Hardening.Rls;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Hardening.Rls;

/// <summary>Readiness: unhealthy on error findings or when the lint cannot run (fail closed), degraded on warnings.</summary>
internal sealed class RlsLintHealthCheck(RlsLinter linter, TenantDataSource tenantDataSource, ILogger<RlsLintHealthCheck> logger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        RlsLintReport report;
        try
        {
            report = await linter.LintAsync(tenantDataSource.DataSource, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            RlsLog.LintFailed(logger, e);
            return HealthCheckResult.Unhealthy("Row-level-security lint could not run.", e);
        }

        var data = report.Findings
            .GroupBy(f => f.Rule, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (object)string.Join("; ", g.Select(f => f.Object)), StringComparer.Ordinal);
        var summary = $"{report.Errors} error(s), {report.Warnings} warning(s).";
        return report.Errors > 0 ? HealthCheckResult.Unhealthy(summary, data: data)
            : report.Warnings > 0 ? HealthCheckResult.Degraded(summary, data: data)
            : HealthCheckResult.Healthy(summary, data);
    }
}
