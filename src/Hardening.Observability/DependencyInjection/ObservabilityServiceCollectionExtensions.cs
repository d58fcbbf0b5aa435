using Hardening.Shared;
using Hardening.Observability;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Hardening.Observability.</summary>
public static class ObservabilityServiceCollectionExtensions
{
    /// <summary>
    /// Registers the metric presets (<see cref="IngestionTelemetry"/>, <see cref="SecurityTelemetry"/>,
    /// <see cref="TenantUsageTelemetry"/>), the <see cref="PrometheusExporter"/>, the health-status gauge, the diagnosis
    /// page and <c>AddHealthChecks()</c>. Add the dependency checks on the builder it returns:
    /// <see cref="AddHardeningPostgreSqlCheck"/> here, and each package's own check (<c>AddHardeningRlsLintCheck</c>,
    /// <c>AddHardeningTokenReplayStoreCheck</c>, <c>AddHardeningSseStoreCheck</c>), then map the endpoints with
    /// <c>MapHardeningMetrics</c>, <c>MapHardeningHealthChecks</c> and <c>MapHardeningDiagnostics</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningObservability(o => o.Prometheus.AuthorizationPolicy = "metrics")
    ///     .AddHardeningPostgreSqlCheck()
    ///     .AddHardeningRlsLintCheck()            // Hardening.Rls
    ///     .AddHardeningTokenReplayStoreCheck()   // Hardening.Auth
    ///     .AddHardeningSseStoreCheck();          // Hardening.Sse
    /// var app = builder.Build();
    /// app.MapHardeningMetrics("/metrics");
    /// app.MapHardeningHealthChecks();
    /// app.MapHardeningDiagnostics();
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddHardeningObservability(this IServiceCollection services, Action<HardeningObservabilityOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<HardeningObservabilityOptions>();
        services.AddSingleOptionsInstance<HardeningObservabilityOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HardeningObservabilityOptions>, HardeningObservabilityOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new PrometheusExporter(sp.GetRequiredService<IOptions<HardeningObservabilityOptions>>().Value.Prometheus, sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));

        // The presets resolve the exporter first so that it listens before their first measurement.
        services.TryAddSingleton(sp => new IngestionTelemetry(MeterFactoryAfterExporter(sp)));
        services.TryAddSingleton(sp => new SecurityTelemetry(MeterFactoryAfterExporter(sp)));
        services.TryAddSingleton(sp => new TenantUsageTelemetry(MeterFactoryAfterExporter(sp), sp.GetRequiredService<IOptions<HardeningObservabilityOptions>>().Value.TenantUsage));
        services.TryAddSingleton<HealthStatusStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthCheckPublisher, HealthStatusStore>(sp => sp.GetRequiredService<HealthStatusStore>()));
        services.TryAddSingleton<DiagnosisPage>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DiagnosticsSampler>());
        return services.AddHealthChecks();
    }

    /// <summary>
    /// Adds the PostgreSQL readiness check (<c>SELECT 1</c> with <see cref="ReadinessOptions.PostgreSqlTimeout"/>) on the
    /// app's singleton <see cref="NpgsqlDataSource"/>, which must be registered in DI. The check reports pool numbers.
    /// </summary>
    public static IHealthChecksBuilder AddHardeningPostgreSqlCheck(this IHealthChecksBuilder builder, string name = HealthCheckNames.PostgreSql)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, sp => new PostgreSqlHealthCheck(
            sp.GetService<NpgsqlDataSource>() ?? throw new InvalidOperationException("The PostgreSQL readiness check needs the app's NpgsqlDataSource in DI: register it once with services.AddSingleton(NpgsqlDataSource.Create(connectionString))."),
            sp.GetRequiredService<IOptions<HardeningObservabilityOptions>>(),
            sp.GetRequiredService<PrometheusExporter>()), HealthStatus.Unhealthy, [HealthCheckNames.ReadyTag]));
    }

    /// <summary>Adds any readiness check from a delegate, tagged <see cref="HealthCheckNames.ReadyTag"/> (run by <c>/health/ready</c>, not by <c>/health/live</c>).</summary>
    public static IHealthChecksBuilder AddHardeningReadinessCheck(this IHealthChecksBuilder builder, string name, Func<IServiceProvider, CancellationToken, Task<HealthCheckResult>> check)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(check);
        return builder.Add(new HealthCheckRegistration(name, sp => new DelegateHealthCheck(sp, check), HealthStatus.Unhealthy, [HealthCheckNames.ReadyTag]));
    }

    private static System.Diagnostics.Metrics.IMeterFactory MeterFactoryAfterExporter(IServiceProvider services)
    {
        _ = services.GetRequiredService<PrometheusExporter>();
        return services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
    }
}
