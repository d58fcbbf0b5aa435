using Hardening.Rls;
using Hardening.Shared;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the readiness checks of Hardening.Rls.</summary>
public static class RlsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the live row-level-security lint of the database behind the registered <see cref="TenantDataSource"/> as a
    /// readiness check tagged <c>ready</c>: Unhealthy on error findings or when the lint cannot run (fail closed),
    /// Degraded on warnings; the findings are in the check's data, by rule. Needs <c>AddHardeningRls</c>. Register it
    /// once: it is the only place the app's readiness runs the lint.
    /// </summary>
    /// <param name="builder">The health checks builder (for example the one <c>AddHardeningObservability</c> returns).</param>
    /// <param name="name">The check's name. Default <c>hardening-rls</c>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningRls(o => o.Lint.AppRole = "ats_app");
    /// builder.Services.AddHealthChecks().AddHardeningRlsLintCheck();
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddHardeningRlsLintCheck(this IHealthChecksBuilder builder, string name = "hardening-rls")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(name, sp => sp.GetService<RlsLinter>() is { } linter
            ? new RlsLintHealthCheck(linter, sp.GetRequiredService<TenantDataSource>(), sp.GetService<ILogger<RlsLintHealthCheck>>() ?? NullLogger<RlsLintHealthCheck>.Instance)
            : new MissingServiceHealthCheck("The RLS lint check has no linter to run: call services.AddHardeningRls(...)."),
            HealthStatus.Unhealthy, ["ready"]));
    }
}
