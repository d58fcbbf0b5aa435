using Hardening.Observability;

namespace OpenTelemetry.Metrics;

/// <summary>Registers the Hardening meters with an OpenTelemetry <see cref="MeterProviderBuilder"/>.</summary>
public static class HardeningMeterProviderBuilderExtensions
{
    /// <summary>
    /// Adds every meter in <see cref="HardeningMeters.Packages"/>: the meters of Hardening.Auth, .Rls, .Fsm and .Sse and
    /// the presets of this package. ASP.NET Core's and Npgsql's meters are not added; add them with their own
    /// instrumentation (or <c>AddMeter("Microsoft.AspNetCore.Hosting", "Npgsql")</c>) when the SLO alerts should see them.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddOpenTelemetry().WithMetrics(m => m
    ///     .AddHardeningInstrumentation()
    ///     .AddOtlpExporter());
    /// </code>
    /// </example>
    public static MeterProviderBuilder AddHardeningInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter([.. HardeningMeters.Packages]);
    }
}
