using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>Reads current values from the exporter's aggregates, addressed by Prometheus names (what the rules use).</summary>
internal sealed class MetricQuery(PrometheusExporter exporter)
{
    /// <summary>Sum over matching series; <c>_count</c>, <c>_sum</c> and <c>_bucket{le}</c> address histograms. Null when the metric does not exist.</summary>
    public double? Sum(Selector selector)
    {
        var name = selector.Metric;
        if (exporter.Family(name) is { Kind: not MetricKind.Histogram } family)
        {
            var total = 0.0;
            foreach (var series in Matching(family, selector))
            {
                total += Volatile.Read(ref series.Value);
            }

            return total;
        }

        foreach (var suffix in (string[])["_count", "_sum", "_bucket"])
        {
            if (!name.EndsWith(suffix, StringComparison.Ordinal) || exporter.Family(name[..^suffix.Length]) is not { Kind: MetricKind.Histogram } histogram)
            {
                continue;
            }

            var le = selector.Matchers.FirstOrDefault(m => m.Label == "le");
            var others = new Selector(name, [.. selector.Matchers.Where(m => m.Label != "le")]);
            var total = 0.0;
            foreach (var instrument in histogram.Instruments)
            {
                var index = le is null ? -1 : Array.FindIndex(instrument.Bounds, b => PrometheusNaming.FormatValue(b) == le.Value);
                if (suffix == "_bucket" && le is not null && le.Value != "+Inf" && index < 0)
                {
                    continue;
                }

                foreach (var series in instrument.AllSeries.Where(others.Matches))
                {
                    lock (series)
                    {
                        total += suffix switch
                        {
                            "_count" => series.Count,
                            "_sum" => series.Value,
                            _ when le is null || le.Value == "+Inf" => series.Count,
                            _ => series.Buckets.Take(index + 1).Sum(),
                        };
                    }
                }
            }

            return total;
        }

        return null;
    }

    /// <summary><c>aggregation [by (label)] (selector)</c>: one value per group. Null when nothing matches.</summary>
    public double[]? Aggregate(Selector selector, string aggregation, string? byLabel)
    {
        if (exporter.Family(selector.Metric) is not { Kind: not MetricKind.Histogram } family)
        {
            return null;
        }

        var groups = Matching(family, selector)
            .GroupBy(s => byLabel is null ? "" : s.Label(byLabel) ?? "", StringComparer.Ordinal)
            .Select(g => g.Select(s => Volatile.Read(ref s.Value)))
            .Select(values => aggregation switch
            {
                "max" => values.Max(),
                "min" => values.Min(),
                _ => values.Sum(),
            })
            .ToArray();
        return groups.Length == 0 ? null : groups;
    }

    /// <summary>Per-bucket counts (not cumulative, +Inf last) summed over every series of a histogram.</summary>
    public double[]? HistogramBuckets(string histogram)
    {
        if (exporter.Family(histogram) is not { Kind: MetricKind.Histogram } family || family.Instruments.Length == 0)
        {
            return null;
        }

        var instrument = family.Instruments[0];
        var result = new double[instrument.Bounds.Length + 1];
        foreach (var series in instrument.AllSeries)
        {
            lock (series)
            {
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] += series.Buckets[i];
                }
            }
        }

        return result;
    }

    /// <summary>The bucket upper bounds of a histogram (without +Inf).</summary>
    public double[]? HistogramBounds(string histogram) =>
        exporter.Family(histogram) is { Kind: MetricKind.Histogram } family && family.Instruments.Length > 0 ? family.Instruments[0].Bounds : null;

    /// <summary>Prometheus's <c>histogram_quantile</c>: linear interpolation inside the bucket holding the rank.</summary>
    public static double? Quantile(double q, double[] bounds, double[] perBucket)
    {
        var total = perBucket.Sum();
        if (total <= 0)
        {
            return null;
        }

        var rank = q * total;
        var cumulative = 0.0;
        for (var i = 0; i < perBucket.Length; i++)
        {
            var previous = cumulative;
            cumulative += perBucket[i];
            if (cumulative >= rank && perBucket[i] > 0)
            {
                if (i == bounds.Length)
                {
                    return bounds.Length == 0 ? null : bounds[^1];
                }

                var lower = i == 0 ? Math.Min(0, bounds[0]) : bounds[i - 1];
                return lower + ((bounds[i] - lower) * (rank - previous) / perBucket[i]);
            }
        }

        return bounds.Length == 0 ? null : bounds[^1];
    }

    private static IEnumerable<Series> Matching(MetricFamily family, Selector selector) =>
        family.Instruments.SelectMany(i => i.AllSeries).Where(selector.Matches);
}
