using Hardening.Auth;
using Hardening.Shared;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the readiness checks of Hardening.Auth.</summary>
public static class AuthHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the readiness check of the token replay store registered by <c>AddHardeningTokenReplayGuard</c>, tagged
    /// <c>ready</c>. On Redis it sends <c>PING</c> to every primary within
    /// <see cref="TokenReplayGuardOptions.StoreTimeout"/> and reads the settings that decide whether Redis can forget
    /// consumed ids: an eviction policy that may drop keys with a TTL is Unhealthy (a captured single-use token could
    /// work again), no persistence is Degraded. The in-process store is always Healthy.
    /// </summary>
    /// <param name="builder">The health checks builder (for example the one <c>AddHardeningObservability</c> returns).</param>
    /// <param name="name">The check's name. Default <c>hardening-auth-replay-store</c>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningTokenReplayGuard(o => o.UseRedis = true);
    /// builder.Services.AddHealthChecks().AddHardeningTokenReplayStoreCheck();
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddHardeningTokenReplayStoreCheck(this IHealthChecksBuilder builder, string name = "hardening-auth-replay-store")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(name, sp => sp.GetService<TokenReplayGuard>() is { } guard
            ? new TokenReplayStoreHealthCheck(guard, sp.GetRequiredService<IOptions<TokenReplayGuardOptions>>().Value)
            : new MissingServiceHealthCheck("The token replay store check has no replay guard to check: call services.AddHardeningTokenReplayGuard(...)."),
            HealthStatus.Unhealthy, ["ready"]));
    }
}
