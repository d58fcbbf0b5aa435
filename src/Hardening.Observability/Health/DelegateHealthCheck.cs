using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Observability;

/// <summary>A readiness check from a delegate (<c>AddHardeningReadinessCheck</c>).</summary>
internal sealed class DelegateHealthCheck(IServiceProvider services, Func<IServiceProvider, CancellationToken, Task<HealthCheckResult>> check) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        check(services, cancellationToken);
}
