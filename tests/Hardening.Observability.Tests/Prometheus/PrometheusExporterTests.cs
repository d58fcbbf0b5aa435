using System.Diagnostics.Metrics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Hardening.Observability.Tests.Prometheus;

public sealed class PrometheusExporterTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static int _meterCounter;

    [Fact]
    public async Task Metrics_endpoint_output_with_every_preset_recording_random_values_passes_promtool_check_metrics()
    {
        var database = await postgres.Server.CreateDatabaseAsync("exposition");
        await using var app = await TestApp.StartAsync(
            b =>
            {
                b.Services.AddHardeningObservability(o =>
                {
                    o.Prometheus.AllowAnonymous = true;
                    o.TenantUsage.Enabled = true;
                    o.TenantUsage.MaxTenants = 5;
                });
                RealPackages.Register(b.Services, postgres.Server.ForDatabase(database));
            },
            a =>
            {
                a.MapHardeningMetrics("/metrics");
                a.MapGet("/", () => "ok");
            });
        var random = new Random(1234);
        var ingestion = app.Services.GetRequiredService<IngestionTelemetry>();
        var security = app.Services.GetRequiredService<SecurityTelemetry>();
        var tenants = app.Services.GetRequiredService<TenantUsageTelemetry>();
        using var queue = ingestion.TrackQueue("resumes", () => random.Next(0, 500));
        for (var i = 0; i < 200; i++)
        {
            ingestion.RecordParseDuration(random.NextDouble() * 20);
            ingestion.RecordProcessed();
            ingestion.RecordFailure((IngestionFailureReason)random.Next(0, 8));
            ingestion.RecordOcrFallback();
            ingestion.RecordDuplicate();
            security.Record((SecurityEvent)random.Next(0, 6));
            tenants.RecordRequest($"tenant \"{random.Next(0, 10)}\"\\\n");
            tenants.RecordResumesIngested($"t{random.Next(0, 10)}");
        }

        using var packages = await RealPackages.ExerciseAsync(app.Services, lint: true);
        packages.RecordOnTheRest(random);
        var client = app.Client();
        Assert.Equal("ok", await client.GetStringAsync("/"));
        var response = await client.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PrometheusExporter.ContentType, response.Content.Headers.ContentType!.ToString().Replace(" ", "", StringComparison.Ordinal).Replace(";", "; ", StringComparison.Ordinal));
        var text = await response.Content.ReadAsStringAsync();

        foreach (var family in (string[])[
                     "hardening_ingestion_parse_duration_seconds_bucket", "hardening_ingestion_resumes_total", "hardening_ingestion_failures_total",
                     "hardening_ingestion_ocr_fallbacks_total", "hardening_ingestion_duplicate_hits_total", "hardening_ingestion_queue_depth",
                     "hardening_security_events_total", "hardening_tenant_requests_total", "hardening_tenant_resumes_total",
                     "hardening_auth_token_rejected_total", "hardening_rls_lint_findings", "hardening_sse_delivery_lag_seconds_count",
                     "http_server_request_duration_seconds_bucket"])
        {
            Assert.Contains("\n" + family, "\n" + text, StringComparison.Ordinal);
        }

        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, text);
            var result = await Exposition.PromtoolAsync("check metrics", file);
            Assert.True(result.ExitCode == 0, $"promtool check metrics failed:\n{result.StdOut}\n{result.StdErr}\n--- exposition ---\n{text}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Property(MaxTest = 150)]
    public Property Histogram_count_sum_and_cumulative_buckets_equal_what_was_recorded()
    {
        double[] bounds = [0.1, 0.5, 1, 5, 10];
        var values = Gen.Choose(0, 15_000).Select(v => v / 1000.0).ArrayOf();
        return Prop.ForAll(values.ToArbitrary(), recorded =>
        {
            using var meter = new Meter(UniqueMeterName());
            using var exporter = Exporter(meter.Name);
            var histogram = meter.CreateHistogram<double>("test.duration", "s", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = bounds });
            foreach (var v in recorded)
            {
                histogram.Record(v, new KeyValuePair<string, object?>("kind", "a"));
            }

            var samples = Exposition.Parse(exporter.Scrape());
            if (recorded.Length == 0)
            {
                return samples.Count == 0;
            }

            var count = samples.Single(s => s.Name == "test_duration_seconds_count").Value;
            var sum = samples.Single(s => s.Name == "test_duration_seconds_sum").Value;
            var buckets = samples.Where(s => s.Name == "test_duration_seconds_bucket").ToList();
            var expectedBuckets = bounds.Select(b => (double)recorded.Count(v => v <= b)).Append(recorded.Length).ToList();
            return count == recorded.Length
                && Math.Abs(sum - recorded.Sum()) <= 1e-9 * Math.Max(1, Math.Abs(recorded.Sum()))
                && buckets.Select(b => b.Label("le")).SequenceEqual(["0.1", "0.5", "1", "5", "10", "+Inf"])
                && buckets.All(b => b.Label("kind") == "a")
                && buckets.Select(b => b.Value).SequenceEqual(expectedBuckets);
        });
    }

    [Property(MaxTest = 200)]
    public Property Label_values_with_quotes_backslashes_and_newlines_are_escaped_and_read_back_unchanged()
    {
        var chars = Gen.Elements('a', 'Z', '0', '"', '\\', '\n', ' ', '{', '}', ',', '=', 'é', '\t');
        var labelValue = chars.ArrayOf().Select(c => new string(c));
        return Prop.ForAll(labelValue.ToArbitrary(), value =>
        {
            using var meter = new Meter(UniqueMeterName());
            using var exporter = Exporter(meter.Name);
            meter.CreateCounter<long>("test.events").Add(3, new KeyValuePair<string, object?>("value", value));
            var text = exporter.Scrape();
            var sample = Exposition.Parse(text).Single(s => s.Name == "test_events_total");
            var dataLine = text.Split('\n').Single(l => l.StartsWith("test_events_total", StringComparison.Ordinal));
            return sample.Label("value") == value && sample.Value == 3 && !dataLine.Contains('\n', StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Escaped_label_values_pass_promtool()
    {
        using var meter = new Meter(UniqueMeterName());
        using var exporter = Exporter(meter.Name);
        meter.CreateCounter<long>("test.events", description: "Help with a \\ backslash\nand a newline.").Add(1, new KeyValuePair<string, object?>("value", "q\"uote \\ back\nline"));
        var text = exporter.Scrape();
        Assert.Contains("test_events_total{value=\"q\\\"uote \\\\ back\\nline\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("# HELP test_events_total Help with a \\\\ backslash\\nand a newline.", text, StringComparison.Ordinal);
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, text);
        var result = await Exposition.PromtoolAsync("check metrics", file);
        File.Delete(file);
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr + "\n" + text);
    }

    [Fact]
    public void Counters_gauges_and_observables_have_the_right_type_and_value()
    {
        using var meter = new Meter(UniqueMeterName());
        using var exporter = Exporter(meter.Name);
        var counter = meter.CreateCounter<double>("test.bytes", "By");
        counter.Add(1.5);
        counter.Add(2.25);
        var upDown = meter.CreateUpDownCounter<int>("test.active", "{connection}");
        upDown.Add(5);
        upDown.Add(-2);
        var gauge = meter.CreateGauge<double>("test.temperature", "Cel");
        gauge.Record(20);
        gauge.Record(21.5);
        var observed = 7L;
        meter.CreateObservableCounter("test.cpu.time", () => observed, "s");
        meter.CreateObservableUpDownCounter("test.queue", () => new Measurement<long>(observed * 2, new KeyValuePair<string, object?>("queue", "q1")));

        var text = exporter.Scrape();
        Assert.Contains("# TYPE test_bytes_total counter\ntest_bytes_total 3.75\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_active gauge\ntest_active 3\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_temperature_celsius gauge\ntest_temperature_celsius 21.5\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_cpu_time_seconds_total counter\ntest_cpu_time_seconds_total 7\n", text, StringComparison.Ordinal);
        Assert.Contains("test_queue{queue=\"q1\"} 14\n", text, StringComparison.Ordinal);

        // Observable values are replaced at each collection, not added up.
        observed = 9;
        text = exporter.Scrape();
        Assert.Contains("test_cpu_time_seconds_total 9\n", text, StringComparison.Ordinal);
        Assert.Contains("test_queue{queue=\"q1\"} 18\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Tag_order_does_not_split_a_series()
    {
        using var meter = new Meter(UniqueMeterName());
        using var exporter = Exporter(meter.Name);
        var counter = meter.CreateCounter<long>("test.requests");
        counter.Add(1, new("a", "1"), new("b", "2"));
        counter.Add(1, new("b", "2"), new("a", "1"));
        var samples = Exposition.Parse(exporter.Scrape()).Where(s => s.Name == "test_requests_total").ToList();
        Assert.Equal(2, Assert.Single(samples).Value);
    }

    [Fact]
    public void Series_beyond_the_per_instrument_limit_land_in_one_overflow_series()
    {
        using var meter = new Meter(UniqueMeterName());
        var options = new PrometheusExporterOptions { MaxSeriesPerInstrument = 10 };
        options.Meters.Add(meter.Name);
        using var exporter = new PrometheusExporter(options);
        var counter = meter.CreateCounter<long>("test.requests");
        for (var i = 0; i < 100; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("user", $"u{i}"));
        }

        var samples = Exposition.Parse(exporter.Scrape()).Where(s => s.Name == "test_requests_total").ToList();
        Assert.Equal(11, samples.Count);
        Assert.Equal(90, samples.Single(s => s.Label("otel_metric_overflow") == "true").Value);
        Assert.Equal(100, samples.Sum(s => s.Value));
    }

    [Fact]
    public async Task Two_apps_in_one_process_export_only_their_own_meters()
    {
        await using var first = await TestApp.StartAsync(b => b.Services.AddHardeningObservability());
        await using var second = await TestApp.StartAsync(b => b.Services.AddHardeningObservability());
        first.Services.GetRequiredService<SecurityTelemetry>().Record(SecurityEvent.CsrfRejected);
        var secondText = second.Services.GetRequiredService<PrometheusExporter>().Scrape();
        var firstText = first.Services.GetRequiredService<PrometheusExporter>().Scrape();
        Assert.Contains("hardening_security_events_total{event=\"csrf_rejected\"} 1", firstText, StringComparison.Ordinal);
        Assert.DoesNotContain("hardening_security_events_total", secondText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_endpoint_requires_authorization_by_default()
    {
        await using var app = await TestApp.StartAsync(b => b.Services.AddHardeningObservability(), a => a.MapHardeningMetrics());
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await app.Client().GetAsync("/metrics")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await app.Client(authenticated: true).GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Metrics_endpoint_authorization_hook_decides()
    {
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddHardeningObservability(o => o.Prometheus.Authorize = ctx => ValueTask.FromResult(ctx.Request.Headers.Authorization == "Bearer scrape-token")),
            a => a.MapHardeningMetrics());
        var client = app.Client();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.GetAsync("/metrics")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("Authorization", "Bearer scrape-token");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Metrics_health_and_diagnostics_endpoints_are_excluded_from_http_metrics()
    {
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddHardeningObservability(o => o.Prometheus.AllowAnonymous = true),
            a =>
            {
                a.MapHardeningMetrics();
                a.MapHardeningHealthChecks();
                a.MapGet("/jobs", () => "jobs");
            });
        var client = app.Client();
        for (var i = 0; i < 3; i++)
        {
            await client.GetStringAsync("/metrics");
            await client.GetStringAsync("/health/live");
            await client.GetStringAsync("/jobs");
        }

        // The server records a request's duration after the response is sent: wait until the last /jobs is in.
        List<Sample> samples = [];
        for (var i = 0; i < 100 && samples.SingleOrDefault(s => s.Label("http_route") == "/jobs")?.Value != 3; i++)
        {
            await Task.Delay(20);
            samples = [.. Exposition.Parse(await client.GetStringAsync("/metrics")).Where(s => s.Name == "http_server_request_duration_seconds_count")];
        }

        Assert.Equal(3, samples.Single(s => s.Label("http_route") == "/jobs").Value);
        Assert.Equal(3, samples.Sum(s => s.Value));
    }

    internal static string UniqueMeterName() => $"Test.Meter.{Interlocked.Increment(ref _meterCounter)}";

    private static PrometheusExporter Exporter(string meterName)
    {
        var options = new PrometheusExporterOptions();
        options.Meters.Clear();
        options.Meters.Add(meterName);
        return new PrometheusExporter(options);
    }
}

/// <summary>
/// An observable instrument whose callback throws (an app's gauge reading a pool that is gone, a bug) costs only its own
/// series: the scrape still answers with everything else, and the in-process sampler keeps the host running (an
/// exception leaving a background service stops the host).
/// </summary>
public sealed class ThrowingCallbackTests
{
    [Fact]
    public void A_throwing_gauge_loses_only_its_own_series()
    {
        using var meter = new System.Diagnostics.Metrics.Meter("test.throwing." + Guid.NewGuid().ToString("N"));
        var options = new PrometheusExporterOptions();
        options.Meters.Add(meter.Name);
        using var exporter = new PrometheusExporter(options);
        meter.CreateObservableGauge<long>("test.broken", (Func<long>)(() => throw new InvalidOperationException("the pool is gone")));
        meter.CreateObservableGauge<long>("test.healthy", () => 7);
        meter.CreateCounter<long>("test.events").Add(2);

        var samples = Exposition.Parse(exporter.Scrape());
        Assert.Equal(7, samples.Single(s => s.Name == "test_healthy").Value);
        Assert.Equal(2, samples.Single(s => s.Name == "test_events_total").Value);
        Assert.DoesNotContain(samples, s => s.Name == "test_broken");
    }

    [Fact]
    public async Task A_throwing_gauge_does_not_stop_the_host_or_the_metrics_endpoint()
    {
        var meterName = "test.throwing." + Guid.NewGuid().ToString("N");
        using var meter = new System.Diagnostics.Metrics.Meter(meterName);
        meter.CreateObservableGauge<long>("test.broken", (Func<long>)(() => throw new InvalidOperationException("the pool is gone")));
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddHardeningObservability(o =>
            {
                o.Prometheus.Meters.Add(meterName);
                o.Diagnostics.SampleInterval = TimeSpan.FromSeconds(1);
            }),
            a => a.MapHardeningMetrics());
        var lifetime = app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
        await Task.Delay(TimeSpan.FromSeconds(3)); // three samples
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the host was stopped");
        using var response = await app.Client(authenticated: true).GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
