using Hardening.Shared;
using Hardening.Sse;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the readiness checks of Hardening.Sse.</summary>
public static class SseHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the readiness check of the event store registered by <c>AddHardeningSse</c>, tagged <c>ready</c>. On Redis
    /// it sends <c>PING</c> to every primary within <see cref="SseOptions.StoreTimeout"/>, checks the backplane's
    /// subscriber connection (Unhealthy when down: events published on other instances would not arrive) and reads the
    /// settings that let Redis drop the replay log (an evicting policy is Unhealthy, no persistence Degraded). The
    /// in-process store is always Healthy.
    /// </summary>
    /// <param name="builder">The health checks builder (for example the one <c>AddHardeningObservability</c> returns).</param>
    /// <param name="name">The check's name. Default <c>hardening-sse-store</c>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningSse(o => o.UseRedis = true);
    /// builder.Services.AddHealthChecks().AddHardeningSseStoreCheck();
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddHardeningSseStoreCheck(this IHealthChecksBuilder builder, string name = "hardening-sse-store")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(name, sp => sp.GetService<ISseStore>() is { } store
            ? new SseStoreHealthCheck(store, sp.GetRequiredService<IOptions<SseOptions>>().Value)
            : new MissingServiceHealthCheck("The SSE store check has no event store to check: call services.AddHardeningSse(...)."),
            HealthStatus.Unhealthy, ["ready"]));
    }
}
