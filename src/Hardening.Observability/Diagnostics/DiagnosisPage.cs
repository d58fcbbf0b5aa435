using System.Text.Json;
using Hardening.Observability;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Hardening.Observability;

/// <summary>
/// The one-page diagnosis: readiness, the current value of every exported metric, recent percentiles of every
/// histogram, and which alert presets would fire now (evaluated in-process on sampled signals).
/// </summary>
internal sealed class DiagnosisPage
{
    private static readonly double[] Percentiles = [0.5, 0.9, 0.99];

    private readonly PrometheusExporter _exporter;
    private readonly HealthCheckService _health;
    private readonly HealthStatusStore _status;
    private readonly DiagnosticsOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _sampleGate = new();

    public DiagnosisPage(PrometheusExporter exporter, HealthCheckService health, HealthStatusStore status, IOptions<HardeningObservabilityOptions> options, TimeProvider time)
    {
        _exporter = exporter;
        _health = health;
        _status = status;
        _options = options.Value.Diagnostics;
        _time = time;
        Rules = AlertRulePresets.Create(options.Value.Alerts);
        History = new SignalHistory(time);
        Query = new MetricQuery(exporter);
    }

    public IReadOnlyList<AlertRule> Rules { get; }

    public SignalHistory History { get; }

    public MetricQuery Query { get; }

    /// <summary>Samples every rule signal and every histogram's buckets.</summary>
    public void Sample()
    {
        lock (_sampleGate)
        {
            var families = _exporter.Collect();
            var signals = Rules.Where(r => r.Condition is not null).SelectMany(r => r.Condition!.Signals)
                .Concat(families.Where(f => f.Kind == MetricKind.Histogram).Select(HistogramSignal));
            History.Take(signals, Query);
        }
    }

    public async Task WriteAsync(HttpContext context)
    {
        var report = await _health.CheckHealthAsync(r => r.Tags.Contains(HealthCheckNames.ReadyTag), context.RequestAborted).ConfigureAwait(false);
        _status.Update(report);
        Sample();

        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { Indented = true });
        await using var writerDisposal = writer.ConfigureAwait(false);
        writer.WriteStartObject();
        writer.WriteString("generatedAt", _time.GetUtcNow());
        writer.WritePropertyName("readiness");
        HealthResponseWriter.Write(writer, report, context.RequestServices);
        WriteAlerts(writer);
        WriteMetrics(writer);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static Signal HistogramSignal(MetricFamily family) => new($"{family.Name}_bucket", q => q.HistogramBuckets(family.Name));

    private void WriteAlerts(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("alerts");
        foreach (var rule in Rules.OrderBy(r => r.Condition is not null && r.Condition.Evaluate(History) ? 0 : 1).ThenBy(r => r.Name, StringComparer.Ordinal))
        {
            writer.WriteStartObject();
            writer.WriteString("name", rule.Name);
            writer.WriteString("severity", PrometheusRuleFile.SeverityText(rule.Severity));
            if (rule.Condition is null)
            {
                writer.WriteNull("conditionMet");
            }
            else
            {
                writer.WriteBoolean("conditionMet", rule.Condition.Evaluate(History));
            }

            writer.WriteString("for", AlertCondition.Duration(rule.For));
            writer.WriteString("summary", rule.Summary);
            writer.WriteString("runbook", rule.RunbookUrl);
            writer.WriteString("expression", rule.Expression);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private void WriteMetrics(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("metrics");
        foreach (var family in _exporter.Collect())
        {
            var series = family.Instruments.SelectMany(i => i.AllSeries).ToList();
            if (series.Count == 0)
            {
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString("name", family.Name);
            writer.WriteString("type", family.Kind.ToString().ToLowerInvariant());
            writer.WriteString("help", family.Help);
            if (family.Kind == MetricKind.Histogram)
            {
                WritePercentiles(writer, family);
            }

            writer.WriteNumber("seriesCount", series.Count);
            writer.WriteBoolean("truncated", series.Count > _options.MaxSeriesPerMetric);
            writer.WriteStartArray("series");
            foreach (var s in series.Take(_options.MaxSeriesPerMetric))
            {
                writer.WriteStartObject();
                writer.WriteStartObject("labels");
                foreach (var (k, v) in s.Labels)
                {
                    writer.WriteString(k, v);
                }

                writer.WriteEndObject();
                if (family.Kind == MetricKind.Histogram)
                {
                    lock (s)
                    {
                        writer.WriteNumber("count", s.Count);
                        WriteNumber(writer, "sum", s.Value);
                    }
                }
                else
                {
                    WriteNumber(writer, "value", Volatile.Read(ref s.Value));
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private void WritePercentiles(Utf8JsonWriter writer, MetricFamily family)
    {
        var signal = HistogramSignal(family);
        var bounds = Query.HistogramBounds(family.Name);
        double[]? buckets = null;
        var window = "since start";
        if (History.Increase(signal, _options.PercentileWindow) is { } recent && recent.Delta.Sum() > 0)
        {
            buckets = recent.Delta;
            window = $"last {Math.Round(recent.Seconds)} s";
        }

        buckets ??= Query.HistogramBuckets(family.Name);
        writer.WriteStartObject("percentiles");
        writer.WriteString("window", window);
        foreach (var p in Percentiles)
        {
            var value = bounds is not null && buckets is not null && buckets.Length == bounds.Length + 1 ? MetricQuery.Quantile(p, bounds, buckets) : null;
            var name = "p" + (p * 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (value is { } v)
            {
                WriteNumber(writer, name, v);
            }
            else
            {
                writer.WriteNull(name);
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteString(name, PrometheusNaming.FormatValue(value));
        }
    }
}
