using System.Diagnostics.Metrics;
using System.Reflection;
using Hardening.Auth;
using Hardening.Fsm;
using Hardening.Rls;
using Hardening.Sse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Hardening.Observability.Tests.Metrics;

/// <summary>The meter names Observability lists as strings are the ones the real packages publish.</summary>
public sealed class MeterNamesTests
{
    private static readonly (string Meter, Type Names)[] PackageNameClasses =
        [(HardeningMeters.Auth, typeof(AuthMeters)), (HardeningMeters.Rls, typeof(RlsMeters)), (HardeningMeters.Fsm, typeof(FsmMeters)), (HardeningMeters.Sse, typeof(SseMeters))];

    [Fact]
    public async Task Packages_lists_exactly_the_meters_the_real_packages_and_presets_publish()
    {
        await using var services = Build();
        using var packages = await RealPackages.ExerciseAsync(services, lint: false);
        Touch(services);

        var published = packages.Instruments.Select(i => i.Meter.Name).Where(n => n.StartsWith("Hardening.", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(HardeningMeters.Packages.Order(StringComparer.Ordinal), published.Order(StringComparer.Ordinal));
        Assert.Equal(HardeningMeters.Packages.Count, HardeningMeters.Packages.Distinct().Count());
        Assert.Subset(HardeningMeters.All.ToHashSet(), HardeningMeters.Packages.ToHashSet());
    }

    [Fact]
    public void Each_package_s_public_meter_name_is_the_one_observability_lists()
    {
        foreach (var (meter, names) in PackageNameClasses)
        {
            Assert.Equal(meter, names.GetField("MeterName")!.GetRawConstantValue());
        }
    }

    [Fact]
    public async Task Every_instrument_a_package_publishes_is_named_in_its_public_names_class()
    {
        await using var services = Build();
        using var packages = await RealPackages.ExerciseAsync(services, lint: false);
        foreach (var (meter, names) in PackageNameClasses)
        {
            var declared = names.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.Name != "MeterName")
                .Select(f => (string)f.GetRawConstantValue()!).ToHashSet();
            var published = packages.Instruments.Where(i => i.Meter.Name == meter).Select(i => i.Name).ToHashSet();
            Assert.Equal(declared.Order(StringComparer.Ordinal), published.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task AddHardeningInstrumentation_makes_opentelemetry_export_every_hardening_meter_and_nothing_else()
    {
        var exporter = new ListExporter();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddHardeningObservability(o => o.TenantUsage.Enabled = true);
        RealPackages.Register(builder.Services);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddHardeningInstrumentation()
            .AddReader(new BaseExportingMetricReader(exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative }));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            using var packages = await RealPackages.ExerciseAsync(host.Services, lint: false);
            packages.RecordOnTheRest(new Random(3));
            Touch(host.Services);
            host.Services.GetRequiredService<IngestionTelemetry>().RecordProcessed();
            host.Services.GetRequiredService<SecurityTelemetry>().Record(SecurityEvent.RateLimited);
            host.Services.GetRequiredService<TenantUsageTelemetry>().RecordRequest("acme");
            var health = host.Services.GetRequiredService<HealthStatusStore>();
            health.Update(new HealthReport(new Dictionary<string, HealthReportEntry> { ["x"] = new(HealthStatus.Healthy, null, TimeSpan.Zero, null, null) }, TimeSpan.Zero));
            using var other = host.Services.GetRequiredService<IMeterFactory>().Create("Not.Hardening");
            other.CreateCounter<long>("not.hardening").Add(1);

            Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush());
            Assert.Equal(HardeningMeters.Packages.Order(StringComparer.Ordinal), exporter.Meters.Order(StringComparer.Ordinal));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void AddHardeningInstrumentation_rejects_a_null_builder() =>
        Assert.Throws<ArgumentNullException>(() => HardeningMeterProviderBuilderExtensions.AddHardeningInstrumentation(null!));

    private static ServiceProvider Build()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddHardeningObservability(o => o.TenantUsage.Enabled = true);
        RealPackages.Register(services);
        return services.BuildServiceProvider();
    }

    // The presets and the health gauge create their instruments when first resolved.
    private static void Touch(IServiceProvider services)
    {
        _ = services.GetRequiredService<IngestionTelemetry>();
        _ = services.GetRequiredService<SecurityTelemetry>();
        _ = services.GetRequiredService<TenantUsageTelemetry>();
        _ = services.GetRequiredService<HealthStatusStore>();
    }

    private sealed class ListExporter : BaseExporter<Metric>
    {
        private readonly HashSet<string> _meters = new(StringComparer.Ordinal);

        public IReadOnlyCollection<string> Meters
        {
            get
            {
                lock (_meters)
                {
                    return [.. _meters];
                }
            }
        }

        public override ExportResult Export(in Batch<Metric> batch)
        {
            lock (_meters)
            {
                foreach (var metric in batch)
                {
                    _meters.Add(metric.MeterName);
                }
            }

            return ExportResult.Success;
        }
    }
}
