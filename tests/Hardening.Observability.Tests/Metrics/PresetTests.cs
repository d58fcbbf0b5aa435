using System.Diagnostics.Metrics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Hardening.Observability.Tests.Metrics;

public sealed class PresetTests
{
    [Fact]
    public void Ingestion_preset_uses_otel_names_units_and_the_agreed_buckets()
    {
        using var services = Services();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var parseDuration = new MetricCollector<double>(factory, HardeningMeters.Ingestion, "hardening.ingestion.parse.duration");
        using var failures = new MetricCollector<long>(factory, HardeningMeters.Ingestion, "hardening.ingestion.failures");
        using var ocrFallbacks = new MetricCollector<long>(factory, HardeningMeters.Ingestion, "hardening.ingestion.ocr.fallbacks");
        using var duplicates = new MetricCollector<long>(factory, HardeningMeters.Ingestion, "hardening.ingestion.duplicate.hits");
        using var resumes = new MetricCollector<long>(factory, HardeningMeters.Ingestion, "hardening.ingestion.resumes");
        var ingestion = services.GetRequiredService<IngestionTelemetry>();
        ingestion.RecordParseDuration(TimeSpan.FromMilliseconds(750));
        ingestion.RecordFailure(IngestionFailureReason.OcrFailed);
        ingestion.RecordFailure((IngestionFailureReason)999);
        ingestion.RecordOcrFallback();
        ingestion.RecordDuplicate();
        ingestion.RecordProcessed();

        Assert.Equal(0.75, Assert.Single(parseDuration.GetMeasurementSnapshot()).Value);
        Assert.Equal(["ocr_failed", "other"], failures.GetMeasurementSnapshot().Select(m => (string?)m.Tags["reason"]));
        Assert.Equal(1, ocrFallbacks.Sum());
        Assert.Equal(1, duplicates.Sum());
        Assert.Equal(1, resumes.Sum());

        var text = services.GetRequiredService<PrometheusExporter>().Scrape();
        Assert.Contains("# TYPE hardening_ingestion_parse_duration_seconds histogram", text, StringComparison.Ordinal);
        var les = Exposition.Parse(text).Where(s => s.Name == "hardening_ingestion_parse_duration_seconds_bucket").Select(s => s.Label("le"));
        Assert.Equal(["0.1", "0.5", "1", "5", "10", "+Inf"], les);
        _ = factory;
    }

    [Fact]
    public void Queue_depth_is_an_observable_up_down_counter_per_queue()
    {
        using var services = Services();
        var ingestion = services.GetRequiredService<IngestionTelemetry>();
        var exporter = services.GetRequiredService<PrometheusExporter>();
        long depth = 42;
        var resumes = ingestion.TrackQueue("resumes", () => depth);
        using var ocr = ingestion.TrackQueue("ocr", () => 7);
        using var broken = ingestion.TrackQueue("broken", () => throw new InvalidOperationException("queue store down"));

        var text = exporter.Scrape();
        Assert.Contains("# TYPE hardening_ingestion_queue_depth gauge", text, StringComparison.Ordinal);
        Assert.Contains("hardening_ingestion_queue_depth{queue=\"resumes\"} 42\n", text, StringComparison.Ordinal);
        Assert.Contains("hardening_ingestion_queue_depth{queue=\"ocr\"} 7\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("broken", text, StringComparison.Ordinal);

        depth = 3;
        Assert.Contains("hardening_ingestion_queue_depth{queue=\"resumes\"} 3\n", exporter.Scrape(), StringComparison.Ordinal);
        resumes.Dispose();
        Assert.DoesNotContain("queue=\"resumes\"", exporter.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public void Queue_names_and_counts_are_bounded()
    {
        using var services = Services();
        var ingestion = services.GetRequiredService<IngestionTelemetry>();
        var ex = Assert.Throws<ArgumentException>(() => ingestion.TrackQueue("Résumés Queue", () => 0));
        Assert.Contains("Résumés Queue", ex.Message, StringComparison.Ordinal);
        using var first = ingestion.TrackQueue("q", () => 0);
        Assert.Throws<InvalidOperationException>(() => ingestion.TrackQueue("q", () => 0));
        var more = Enumerable.Range(1, IngestionTelemetry.MaxQueues - 1).Select(i => ingestion.TrackQueue($"q{i}", () => 0)).ToList();
        Assert.Throws<InvalidOperationException>(() => ingestion.TrackQueue("one-too-many", () => 0));
        more.ForEach(d => d.Dispose());
    }

    [Fact]
    public void Security_preset_counts_events_by_bounded_kind()
    {
        using var services = Services();
        using var events = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), HardeningMeters.Security, "hardening.security.events");
        var security = services.GetRequiredService<SecurityTelemetry>();
        foreach (var e in Enum.GetValues<SecurityEvent>())
        {
            security.Record(e);
        }

        Assert.Equal(
            ["authorization_denied", "rate_limited", "csrf_rejected", "input_rejected", "malicious_upload", "tenant_boundary_violation"],
            events.GetMeasurementSnapshot().Select(m => (string?)m.Tags["event"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => security.Record((SecurityEvent)42));
    }

    [Fact]
    public void Tenant_usage_is_off_unless_enabled()
    {
        using var services = Services();
        var tenants = services.GetRequiredService<TenantUsageTelemetry>();
        Assert.False(tenants.IsEnabled);
        tenants.RecordRequest("acme");
        Assert.DoesNotContain("hardening_tenant", services.GetRequiredService<PrometheusExporter>().Scrape(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => tenants.RecordRequest(""));
    }

    [Property(MaxTest = 100)]
    public Property More_distinct_tenants_than_the_cap_never_create_more_than_cap_plus_one_series()
    {
        var gen = from cap in Gen.Choose(1, 20)
                  from tenants in Gen.Choose(0, 60).ArrayOf()
                  select (cap, tenants);
        return Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var (cap, tenants) = input;
            using var services = Services(o =>
            {
                o.TenantUsage.Enabled = true;
                o.TenantUsage.MaxTenants = cap;
            });
            var usage = services.GetRequiredService<TenantUsageTelemetry>();
            foreach (var t in tenants)
            {
                usage.RecordRequest($"tenant-{t}");
            }

            var series = Exposition.Parse(services.GetRequiredService<PrometheusExporter>().Scrape())
                .Where(s => s.Name == "hardening_tenant_requests_total").ToList();
            var distinct = tenants.Distinct().Count();
            var firstTenants = tenants.Distinct().Take(cap).Select(t => $"tenant-{t}").ToHashSet();
            return series.Count <= cap + 1
                && series.Count == Math.Min(distinct, cap) + (distinct > cap ? 1 : 0)
                && series.Sum(s => s.Value) == tenants.Length
                && series.Where(s => s.Label("tenant") != TenantUsageOptions.OtherTenant).All(s => firstTenants.Contains(s.Label("tenant")!))
                && series.Where(s => s.Label("tenant") != TenantUsageOptions.OtherTenant)
                    .All(s => s.Value == tenants.Count(t => $"tenant-{t}" == s.Label("tenant")));
        });
    }

    [Fact]
    public void Invalid_options_fail_at_start()
    {
        using var services = Services(o => o.TenantUsage.MaxTenants = 0);
        Assert.ThrowsAny<Exception>(() => services.GetRequiredService<TenantUsageTelemetry>());
    }

    internal static ServiceProvider Services(Action<HardeningObservabilityOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHardeningObservability(configure);
        return services.BuildServiceProvider();
    }
}
