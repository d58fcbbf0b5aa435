using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Shared;

/// <summary>
/// Stands in for a package's readiness check when the service it checks was never registered (shared source): the
/// probe answers Unhealthy with what to register, instead of the health middleware failing with a 500.
/// </summary>
internal sealed class MissingServiceHealthCheck(string message) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Unhealthy(message));
}
