using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.Pipelines;
using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>
/// Aggregates the measurements of the selected meters with a <see cref="MeterListener"/> and writes them in the
/// Prometheus text exposition format 0.0.4. Thread-safe; one per app (registered by <c>AddHardeningObservability</c>).
/// </summary>
/// <example>
/// <code>
/// using var exporter = new PrometheusExporter(new PrometheusExporterOptions());
/// var buffer = new ArrayBufferWriter&lt;byte&gt;();
/// exporter.WriteTo(buffer);
/// </code>
/// </example>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>The content type of the text exposition format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly double[] DefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
    private static readonly byte[] BucketSuffix = "_bucket{"u8.ToArray();
    private static readonly byte[] SumSuffix = "_sum"u8.ToArray();
    private static readonly byte[] CountSuffix = "_count"u8.ToArray();

    private readonly MeterListener _listener = new();
    private readonly HashSet<string> _meters;
    private readonly IMeterFactory? _meterFactory;
    private readonly int _maxSeries;
    private readonly Lock _familiesGate = new();
    private readonly Lock _collectGate = new();
    private readonly SortedDictionary<string, MetricFamily> _families = new(StringComparer.Ordinal);
    private MetricFamily[] _familySnapshot = [];
    private bool _familiesChanged;
    private AggregateException? _callbackFailure;

    /// <summary>Starts listening to the meters in <paramref name="options"/>.</summary>
    /// <param name="options">What to export.</param>
    /// <param name="meterFactory">When given, only meters created by this factory (or without a factory) are exported, so two hosts in one process do not mix.</param>
    public PrometheusExporter(PrometheusExporterOptions options, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxSeriesPerInstrument < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSeriesPerInstrument, "PrometheusExporterOptions.MaxSeriesPerInstrument must be at least 1.");
        }

        _meters = new HashSet<string>(options.Meters, StringComparer.Ordinal);
        _meterFactory = meterFactory;
        _maxSeries = options.MaxSeriesPerInstrument;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.MeasurementsCompleted = (instrument, state) => OnCompleted(state as InstrumentState);
        _listener.SetMeasurementEventCallback<double>(static (_, v, t, s) => ((InstrumentState)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<float>(static (_, v, t, s) => ((InstrumentState)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<long>(static (_, v, t, s) => ((InstrumentState)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<int>(static (_, v, t, s) => ((InstrumentState)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<short>(static (_, v, t, s) => ((InstrumentState)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<byte>(static (_, v, t, s) => ((InstrumentState)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<decimal>(static (_, v, t, s) => ((InstrumentState)s!).Record((double)v, t));
        _listener.Start();
    }

    /// <summary>Polls the observable instruments and writes every series to <paramref name="output"/>.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var family in Collect())
        {
            WriteFamily(output, family);
        }
    }

    /// <summary>Writes the exposition to <paramref name="output"/> and flushes it.</summary>
    public async Task WriteToAsync(PipeWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteTo(output);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The exposition as text (for tests and tools; the endpoint writes bytes directly).</summary>
    public string Scrape()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        WriteTo(buffer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    /// <summary>Polls observable instruments and returns the families, sorted by name.</summary>
    internal MetricFamily[] Collect()
    {
        lock (_collectGate)
        {
            var families = Families();
            foreach (var family in families)
            {
                foreach (var instrument in family.Instruments)
                {
                    if (instrument.IsObservable)
                    {
                        instrument.Clear();
                    }
                }
            }

            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException e)
            {
                // Every observable callback has run; the ones that threw (an app's gauge, a bug) have no series this
                // time. A scrape or a sample must not fail for the rest; the in-process sampler logs it.
                Volatile.Write(ref _callbackFailure, e);
            }

            return families;
        }
    }

    /// <summary>The exceptions of the observable callbacks that threw since the last call, or null.</summary>
    internal AggregateException? TakeCallbackFailure() => Interlocked.Exchange(ref _callbackFailure, null);

    /// <summary>The family named <paramref name="prometheusName"/> (no polling).</summary>
    internal MetricFamily? Family(string prometheusName)
    {
        lock (_familiesGate)
        {
            return _families.GetValueOrDefault(prometheusName);
        }
    }

    private MetricFamily[] Families()
    {
        lock (_familiesGate)
        {
            if (_familiesChanged)
            {
                _familySnapshot = [.. _families.Values];
                _familiesChanged = false;
            }

            return _familySnapshot;
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        var meter = instrument.Meter;
        if (!_meters.Contains(meter.Name) || (_meterFactory is not null && meter.Scope is not null && !ReferenceEquals(meter.Scope, _meterFactory)))
        {
            return;
        }

        var (kind, setsValue) = Classify(instrument);
        if (kind is null)
        {
            return;
        }

        var name = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, kind == MetricKind.Counter, kind == MetricKind.Gauge);
        var help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description!;
        InstrumentState state;
        lock (_familiesGate)
        {
            if (!_families.TryGetValue(name, out var family))
            {
                family = new MetricFamily(name, help, kind.Value);
                _families.Add(name, family);
            }
            else if (family.Kind != kind)
            {
                // Two instruments map to one Prometheus name with different types: exporting both would be invalid.
                return;
            }

            state = new InstrumentState(instrument, family, kind == MetricKind.Histogram ? Bounds(instrument) : [], setsValue, _maxSeries);
            family.Instruments = [.. family.Instruments, state];
            _familiesChanged = true;
        }

        listener.EnableMeasurementEvents(instrument, state);
    }

    private void OnCompleted(InstrumentState? state)
    {
        if (state is null)
        {
            return;
        }

        lock (_familiesGate)
        {
            state.Family.Instruments = [.. state.Family.Instruments.Where(i => i != state)];
            if (state.Family.Instruments.Length == 0)
            {
                _families.Remove(state.Family.Name);
            }

            _familiesChanged = true;
        }
    }

    private static (MetricKind? Kind, bool SetsValue) Classify(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return (null, false);
        }

        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>))
        {
            return (MetricKind.Counter, false);
        }

        if (definition == typeof(ObservableCounter<>))
        {
            return (MetricKind.Counter, true);
        }

        if (definition == typeof(UpDownCounter<>))
        {
            return (MetricKind.Gauge, false);
        }

        if (definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>))
        {
            return (MetricKind.Gauge, true);
        }

        if (definition == typeof(Histogram<>))
        {
            return (MetricKind.Histogram, false);
        }

        return (null, false);
    }

    private static double[] Bounds(Instrument instrument)
    {
        IEnumerable<double>? advice = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            _ => null,
        };
        var bounds = advice?.Where(b => !double.IsNaN(b) && !double.IsInfinity(b)).Distinct().Order().ToArray();
        return bounds is { Length: > 0 } ? bounds : DefaultBounds;
    }

    private static void WriteFamily(IBufferWriter<byte> output, MetricFamily family)
    {
        var wroteHeader = false;
        foreach (var instrument in family.Instruments)
        {
            foreach (var series in instrument.AllSeries)
            {
                if (!wroteHeader)
                {
                    output.Write(family.HeaderUtf8);
                    wroteHeader = true;
                }

                if (family.Kind == MetricKind.Histogram)
                {
                    WriteHistogram(output, family, instrument, series);
                }
                else
                {
                    output.Write(family.NameUtf8);
                    WriteLabels(output, series.LabelsUtf8);
                    WriteByte(output, (byte)' ');
                    WriteDouble(output, Volatile.Read(ref series.Value));
                    WriteByte(output, (byte)'\n');
                }
            }
        }
    }

    private static void WriteHistogram(IBufferWriter<byte> output, MetricFamily family, InstrumentState instrument, Series series)
    {
        Span<long> buckets = stackalloc long[series.Buckets.Length];
        double sum;
        long count;
        lock (series)
        {
            series.Buckets.CopyTo(buckets);
            sum = series.Value;
            count = series.Count;
        }

        long cumulative = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            cumulative += buckets[i];
            output.Write(family.NameUtf8);
            output.Write(BucketSuffix);
            output.Write(series.LabelsUtf8);
            output.Write(instrument.LeUtf8[i]);
            WriteLong(output, cumulative);
            WriteByte(output, (byte)'\n');
        }

        output.Write(family.NameUtf8);
        output.Write(SumSuffix);
        WriteLabels(output, series.LabelsUtf8);
        WriteByte(output, (byte)' ');
        WriteDouble(output, sum);
        WriteByte(output, (byte)'\n');
        output.Write(family.NameUtf8);
        output.Write(CountSuffix);
        WriteLabels(output, series.LabelsUtf8);
        WriteByte(output, (byte)' ');
        WriteLong(output, count);
        WriteByte(output, (byte)'\n');
    }

    private static void WriteLabels(IBufferWriter<byte> output, byte[] labels)
    {
        if (labels.Length == 0)
        {
            return;
        }

        WriteByte(output, (byte)'{');
        output.Write(labels.AsSpan(0, labels.Length - 1));
        WriteByte(output, (byte)'}');
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        var span = output.GetSpan(1);
        span[0] = value;
        output.Advance(1);
    }

    private static void WriteLong(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(24);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    private static void WriteDouble(IBufferWriter<byte> output, double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            output.Write("+Inf"u8);
        }
        else if (double.IsNegativeInfinity(value))
        {
            output.Write("-Inf"u8);
        }
        else if (double.IsNaN(value))
        {
            output.Write("NaN"u8);
        }
        else
        {
            var span = output.GetSpan(32);
            value.TryFormat(span, out var written, "R", CultureInfo.InvariantCulture);
            output.Advance(written);
        }
    }
}
