using Hardening.Observability;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Optional OTLP export of the Hardening meters, for teams that run an OpenTelemetry collector.</summary>
public static class OtlpServiceCollectionExtensions
{
    /// <summary>
    /// Exports <paramref name="meters"/> (default <see cref="HardeningMeters.All"/>) over OTLP with OpenTelemetry's SDK,
    /// alongside (not instead of) the Prometheus endpoint. Nothing is exported over OTLP unless this is called.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningOtlpExporter(o =>
    /// {
    ///     o.Endpoint = new Uri("http://otel-collector:4318/v1/metrics");
    ///     o.Protocol = OtlpExportProtocol.HttpProtobuf;
    /// });
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningOtlpExporter(this IServiceCollection services, Action<OtlpExporterOptions>? configure = null, IEnumerable<string>? meters = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        string[] names = [.. meters ?? HardeningMeters.All];
        if (names.Length == 0 || names.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Give at least one meter name, and no empty names.", nameof(meters));
        }

        // Built on OpenTelemetry's core SDK (OpenTelemetry.Extensions.Hosting is not required); the provider flushes on dispose.
        services.TryAddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .AddMeter(names)
            .AddOtlpExporter(o => configure?.Invoke(o))
            .Build());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MeterProviderStarter>());
        return services;
    }

    /// <summary>Creates the meter provider when the host starts, so export begins without waiting for a first resolve.</summary>
    private sealed class MeterProviderStarter(MeterProvider provider) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = provider;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
