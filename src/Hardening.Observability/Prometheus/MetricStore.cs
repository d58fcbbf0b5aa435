using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Hardening.Observability;

/// <summary>How a metric family is exposed.</summary>
internal enum MetricKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One Prometheus metric family (name, help, type) fed by one or more instruments.</summary>
internal sealed class MetricFamily(string name, string help, MetricKind kind)
{
    public string Name { get; } = name;

    public string Help { get; } = help;

    public MetricKind Kind { get; } = kind;

    public byte[] NameUtf8 { get; } = Encoding.UTF8.GetBytes(name);

    public byte[] HeaderUtf8 { get; } = Encoding.UTF8.GetBytes(
        $"# HELP {name} {PrometheusNaming.EscapeHelp(help)}\n# TYPE {name} {kind.ToString().ToLowerInvariant()}\n");

    /// <summary>Copy-on-write, so a scrape can read it without a lock.</summary>
    public InstrumentState[] Instruments { get; set; } = [];
}

/// <summary>One exported series: its label text and its aggregate.</summary>
internal sealed class Series
{
    public Series(KeyValuePair<string, string>[] labels, int bucketCount)
    {
        Labels = labels;
        var sb = new StringBuilder();
        foreach (var (k, v) in labels)
        {
            sb.Append(k).Append("=\"");
            PrometheusNaming.AppendEscapedLabelValue(sb, v);
            sb.Append("\",");
        }

        LabelsUtf8 = Encoding.UTF8.GetBytes(sb.ToString());
        Buckets = bucketCount > 0 ? new long[bucketCount + 1] : [];
    }

    /// <summary>Sanitised label names and values, in tag order.</summary>
    public KeyValuePair<string, string>[] Labels { get; }

    /// <summary><c>a="b",c="d",</c> (trailing comma) or empty.</summary>
    public byte[] LabelsUtf8 { get; }

    /// <summary>Counter/gauge value, or the histogram sum.</summary>
    public double Value;

    /// <summary>Histogram observation count.</summary>
    public long Count;

    /// <summary>Per-bucket (not cumulative) counts; the last is the +Inf bucket.</summary>
    public long[] Buckets { get; }

    public string? Label(string name)
    {
        foreach (var (k, v) in Labels)
        {
            if (k == name)
            {
                return v;
            }
        }

        return null;
    }
}

/// <summary>A tag set as a dictionary key; order-insensitive.</summary>
internal sealed class TagSet(KeyValuePair<string, object?>[] tags)
{
    public KeyValuePair<string, object?>[] Tags { get; } = tags;
}

/// <summary>Looks tag sets up by the span a measurement callback receives, without allocating.</summary>
internal sealed class TagSetComparer : IEqualityComparer<TagSet>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, TagSet>
{
    public static readonly TagSetComparer Instance = new();

    public bool Equals(TagSet? x, TagSet? y) => x is not null && y is not null && Equals(x.Tags.AsSpan(), y);

    public int GetHashCode(TagSet obj) => GetHashCode(obj.Tags.AsSpan());

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, TagSet other)
    {
        var tags = other.Tags;
        if (alternate.Length != tags.Length)
        {
            return false;
        }

        for (var i = 0; i < alternate.Length; i++)
        {
            // Same order is the common case; fall back to a search.
            if (i < tags.Length && tags[i].Key == alternate[i].Key)
            {
                if (!Equals(tags[i].Value, alternate[i].Value))
                {
                    return false;
                }

                continue;
            }

            var found = false;
            foreach (var t in tags)
            {
                if (t.Key == alternate[i].Key)
                {
                    found = Equals(t.Value, alternate[i].Value);
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate)
    {
        var hash = alternate.Length;
        foreach (var kv in alternate)
        {
            hash += HashCode.Combine(kv.Key, kv.Value);
        }

        return hash;
    }

    public TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => new(alternate.ToArray());
}

/// <summary>The aggregation state of one instrument.</summary>
internal sealed class InstrumentState
{
    private readonly ConcurrentDictionary<TagSet, Series> _series = new(TagSetComparer.Instance);
    private readonly ConcurrentDictionary<TagSet, Series>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly Lock _gate = new();
    private readonly int _maxSeries;
    private Series? _noTags;
    private Series? _overflow;

    public InstrumentState(Instrument instrument, MetricFamily family, double[] bounds, bool setsValue, int maxSeries)
    {
        Instrument = instrument;
        Family = family;
        Bounds = bounds;
        SetsValue = setsValue;
        _maxSeries = maxSeries;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
        IsObservable = instrument.IsObservable;
        LeUtf8 = [.. bounds.Select(b => Encoding.UTF8.GetBytes($"le=\"{PrometheusNaming.FormatValue(b)}\"}} ")), Encoding.UTF8.GetBytes("le=\"+Inf\"} ")];
    }

    public Instrument Instrument { get; }

    public MetricFamily Family { get; }

    /// <summary>Histogram upper bounds (empty for other kinds).</summary>
    public double[] Bounds { get; }

    /// <summary><c>le="…"} </c> per bucket, +Inf last.</summary>
    public byte[][] LeUtf8 { get; }

    /// <summary>True when a measurement replaces the value (gauges, observable instruments) instead of adding to it.</summary>
    public bool SetsValue { get; }

    public bool IsObservable { get; }

    /// <summary>Every series; enumerates the dictionary in place (no snapshot copy), which is safe under concurrent adds.</summary>
    public IEnumerable<Series> AllSeries
    {
        get
        {
            if (_noTags is { } noTags)
            {
                yield return noTags;
            }

            foreach (var pair in _series)
            {
                yield return pair.Value;
            }

            if (_overflow is { } overflow)
            {
                yield return overflow;
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _series.Clear();
            _noTags = null;
            _overflow = null;
        }
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = tags.Length == 0 ? _noTags ?? CreateNoTags() : _lookup.TryGetValue(tags, out var s) ? s : Create(tags);
        if (Family.Kind == MetricKind.Histogram)
        {
            if (double.IsNaN(value))
            {
                return;
            }

            var index = BucketIndex(value);
            lock (series)
            {
                series.Buckets[index]++;
                series.Count++;
                series.Value += value;
            }
        }
        else if (SetsValue)
        {
            Volatile.Write(ref series.Value, value);
        }
        else
        {
            InterlockedAdd(ref series.Value, value);
        }
    }

    private static void InterlockedAdd(ref double target, double value)
    {
        var current = Volatile.Read(ref target);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref target, current + value, current);
            if (seen.Equals(current))
            {
                return;
            }

            current = seen;
        }
    }

    private int BucketIndex(double value)
    {
        var bounds = Bounds;
        if (bounds.Length <= 16)
        {
            for (var i = 0; i < bounds.Length; i++)
            {
                if (value <= bounds[i])
                {
                    return i;
                }
            }

            return bounds.Length;
        }

        var index = Array.BinarySearch(bounds, value);
        return index >= 0 ? index : ~index;
    }

    private Series CreateNoTags()
    {
        lock (_gate)
        {
            return _noTags ??= new Series([], Bounds.Length);
        }
    }

    private Series Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_gate)
        {
            if (_lookup.TryGetValue(tags, out var existing))
            {
                return existing;
            }

            if (_series.Count >= _maxSeries)
            {
                // OpenTelemetry's cardinality-limit convention: everything beyond the limit lands in one overflow series.
                return _overflow ??= new Series([new("otel_metric_overflow", "true")], Bounds.Length);
            }

            var labels = new KeyValuePair<string, string>[tags.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                labels[i] = new(PrometheusNaming.LabelName(tags[i].Key), ToLabelValue(tags[i].Value));
            }

            var series = new Series(labels, Bounds.Length);
            _series[new TagSet(tags.ToArray())] = series;
            return series;
        }
    }

    private static string ToLabelValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
