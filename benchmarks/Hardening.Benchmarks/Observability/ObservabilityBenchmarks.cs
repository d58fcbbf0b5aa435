using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Hardening.Observability;
using Microsoft.Extensions.DependencyInjection;

namespace Hardening.Benchmarks.Observability;

/// <summary>
/// Recording a résumé parse duration through the ingestion preset vs a raw <see cref="Histogram{T}.Record(T)"/> on an
/// identically configured histogram, both listened to by the Prometheus exporter (so both pay the aggregation).
/// </summary>
[MemoryDiagnoser]
public class PresetRecordingBenchmarks
{
    private ServiceProvider _services = null!;
    private IngestionTelemetry _ingestion = null!;
    private Histogram<double> _raw = null!;
    private double _value;

    [GlobalSetup]
    public void Setup()
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddHardeningObservability(o => o.Prometheus.Meters.Add("Bench.Raw"));
        _services = collection.BuildServiceProvider();
        _ingestion = _services.GetRequiredService<IngestionTelemetry>();
        var meter = _services.GetRequiredService<IMeterFactory>().Create("Bench.Raw");
        _raw = meter.CreateHistogram<double>("bench.parse.duration", "s", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 5, 10] });
        _services.GetRequiredService<PrometheusExporter>();
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "raw Histogram<double>.Record")]
    public void RawHistogram()
    {
        _value = _value > 12 ? 0 : _value + 0.37;
        _raw.Record(_value);
    }

    [Benchmark(Description = "IngestionTelemetry.RecordParseDuration")]
    public void Preset()
    {
        _value = _value > 12 ? 0 : _value + 0.37;
        _ingestion.RecordParseDuration(_value);
    }
}

/// <summary>
/// One scrape of 10,000 series (10,000 counter tag sets) by <see cref="PrometheusExporter"/> vs a hand-rolled
/// StringBuilder exposition over a dictionary of the same series, the usual in-house alternative.
/// </summary>
[MemoryDiagnoser]
public class ScrapeBenchmarks
{
    private const int SeriesCount = 10_000;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private Meter _meter = null!;
    private PrometheusExporter _exporter = null!;
    private Dictionary<string, double> _handRolled = null!;

    [GlobalSetup]
    public void Setup()
    {
        _meter = new Meter("Bench.Scrape");
        var options = new PrometheusExporterOptions { MaxSeriesPerInstrument = SeriesCount };
        options.Meters.Clear();
        options.Meters.Add(_meter.Name);
        _exporter = new PrometheusExporter(options);
        var counter = _meter.CreateCounter<long>("bench.requests", "{request}", "Requests by tenant and route.");
        _handRolled = new Dictionary<string, double>(SeriesCount);
        for (var i = 0; i < SeriesCount; i++)
        {
            var tenant = "tenant-" + (i / 10).ToString(CultureInfo.InvariantCulture);
            var route = "/api/route/" + (i % 10).ToString(CultureInfo.InvariantCulture);
            counter.Add(i + 1, new("tenant", tenant), new("route", route));
            _handRolled[$"tenant=\"{tenant}\",route=\"{route}\""] = i + 1;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _exporter.Dispose();
        _meter.Dispose();
    }

    [Benchmark(Baseline = true, Description = "hand-rolled StringBuilder exposition")]
    public int HandRolled()
    {
        var sb = new StringBuilder();
        sb.Append("# HELP bench_requests_total Requests by tenant and route.\n# TYPE bench_requests_total counter\n");
        foreach (var (labels, value) in _handRolled)
        {
            sb.Append("bench_requests_total{").Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        _buffer.ResetWrittenCount();
        var text = sb.ToString();
        var bytes = Encoding.UTF8.GetBytes(text);
        _buffer.Write(bytes);
        return _buffer.WrittenCount;
    }

    [Benchmark(Description = "PrometheusExporter.WriteTo")]
    public int Exporter()
    {
        _buffer.ResetWrittenCount();
        _exporter.WriteTo(_buffer);
        return _buffer.WrittenCount;
    }
}
