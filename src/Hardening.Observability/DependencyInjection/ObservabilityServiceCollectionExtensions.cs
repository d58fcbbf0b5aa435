using Hardening.Observability;
using Hardening.Shared;
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
    /// page and <c>AddHealthChecks()</c>. Add the dependency checks with
    /// <see cref="AddHardeningPostgreSqlCheck"/> and <see cref="AddHardeningRedisCheck"/>, then map the endpoints with
    /// <c>MapPrometheusScrapingEndpoint</c>, <c>MapHardeningHealthChecks</c> and <c>MapHardeningDiagnostics</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningObservability(o => o.Prometheus.AuthorizationPolicy = "metrics")
    ///     .AddHardeningPostgreSqlCheck()
    ///     .AddHardeningRedisCheck();
    /// var app = builder.Build();
    /// app.MapPrometheusScrapingEndpoint("/metrics");
    /// app.MapHardeningHealthChecks();
    /// app.MapHardeningDiagnostics();
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddHardeningObservability(this IServiceCollection services, Action<HardeningObservabilityOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<HardeningObservabilityOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.Validate(Validate).ValidateOnStart();
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

    /// <summary>
    /// Adds the Redis readiness check on the app's <c>IConnectionMultiplexer</c> (the keyed one when
    /// <paramref name="serviceKey"/> is set): <c>PING</c> on every primary within <see cref="ReadinessOptions.RedisTimeout"/>,
    /// Unhealthy when an eviction policy could drop consumed single-use tokens, Degraded without persistence.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="serviceKey">The DI service key of the multiplexer; null for the unkeyed registration.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddHardeningRedisCheck(this IHealthChecksBuilder builder, string name = HealthCheckNames.Redis, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, sp => new RedisHealthCheck(
            RedisMultiplexers.Resolve(sp, serviceKey, "The Redis readiness check"),
            sp.GetRequiredService<IOptions<HardeningObservabilityOptions>>()), HealthStatus.Unhealthy, [HealthCheckNames.ReadyTag]));
    }

    /// <summary>
    /// Adds the RLS linter hook: <paramref name="countErrorFindings"/> runs the linter (for example Hardening.Rls's) and
    /// returns the number of error-level findings; any finding makes readiness Unhealthy.
    /// </summary>
    public static IHealthChecksBuilder AddRlsLinterCheck(this IHealthChecksBuilder builder, Func<IServiceProvider, CancellationToken, Task<int>> countErrorFindings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(countErrorFindings);
        return builder.AddHardeningReadinessCheck(HealthCheckNames.RlsLinter, async (sp, ct) =>
        {
            var errors = await countErrorFindings(sp, ct).ConfigureAwait(false);
            return errors == 0
                ? HealthCheckResult.Healthy("The RLS linter found no errors.")
                : HealthCheckResult.Unhealthy($"The RLS linter found {errors} error finding(s): tenant isolation may be broken.", data: new Dictionary<string, object> { ["errors"] = errors });
        });
    }

    /// <summary>Adds the SSE backplane hook: <paramref name="isConnected"/> returns whether the backplane (for example Hardening.Sse's Redis backplane) is connected.</summary>
    public static IHealthChecksBuilder AddSseBackplaneCheck(this IHealthChecksBuilder builder, Func<IServiceProvider, CancellationToken, Task<bool>> isConnected)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(isConnected);
        return builder.AddHardeningReadinessCheck(HealthCheckNames.SseBackplane, async (sp, ct) =>
            await isConnected(sp, ct).ConfigureAwait(false)
                ? HealthCheckResult.Healthy("The SSE backplane is connected.")
                : HealthCheckResult.Unhealthy("The SSE backplane is disconnected: events published on other instances do not reach this one."));
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

    private static bool Validate(HardeningObservabilityOptions o)
    {
        if (o.Prometheus.MaxSeriesPerInstrument < 1)
        {
            throw new OptionsValidationException(nameof(HardeningObservabilityOptions), typeof(HardeningObservabilityOptions), ["Prometheus.MaxSeriesPerInstrument must be at least 1."]);
        }

        if (o.TenantUsage.MaxTenants < 1)
        {
            throw new OptionsValidationException(nameof(HardeningObservabilityOptions), typeof(HardeningObservabilityOptions), ["TenantUsage.MaxTenants must be at least 1."]);
        }

        if (o.Readiness.PostgreSqlTimeout <= TimeSpan.Zero || o.Readiness.RedisTimeout <= TimeSpan.Zero)
        {
            throw new OptionsValidationException(nameof(HardeningObservabilityOptions), typeof(HardeningObservabilityOptions), ["Readiness timeouts must be positive."]);
        }

        if (o.Diagnostics.SampleInterval < TimeSpan.FromSeconds(1) || o.Diagnostics.MaxSeriesPerMetric < 1 || o.Diagnostics.PercentileWindow <= TimeSpan.Zero)
        {
            throw new OptionsValidationException(nameof(HardeningObservabilityOptions), typeof(HardeningObservabilityOptions), ["Diagnostics.SampleInterval must be at least 1 s, MaxSeriesPerMetric at least 1 and PercentileWindow positive."]);
        }

        o.Alerts.Validate();
        return true;
    }
}
