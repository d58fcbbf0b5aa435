using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>A label matcher of a selector: <c>label="value"</c> or <c>label=~"regex"</c>.</summary>
internal sealed record LabelMatcher(string Label, string Value, bool IsRegex = false)
{
    private readonly Regex? _regex = IsRegex ? new Regex("^(?:" + Value + ")$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)) : null;

    public bool Matches(Series series)
    {
        var actual = series.Label(Label) ?? "";
        return _regex is null ? actual == Value : _regex.IsMatch(actual);
    }

    public override string ToString() => $"{Label}{(IsRegex ? "=~" : "=")}\"{Value}\"";
}

/// <summary>A PromQL instant-vector selector with exact or regex matchers.</summary>
internal sealed record Selector(string Metric, params LabelMatcher[] Matchers)
{
    public override string ToString() => Matchers.Length == 0 ? Metric : $"{Metric}{{{string.Join(",", Matchers.Select(m => m.ToString()))}}}";

    public bool Matches(Series series) => Matchers.All(m => m.Matches(series));
}

/// <summary>One series of a generated promtool test: a series selector and promtool's expanding notation.</summary>
internal sealed record ExampleSeries(string Series, string Values);

/// <summary>Input series for one promtool test case, when to evaluate, and the labels a firing alert carries.</summary>
internal sealed record AlertExample(IReadOnlyList<ExampleSeries> Series, TimeSpan EvalTime, IReadOnlyList<KeyValuePair<string, string>> Labels);

/// <summary>A scalar or vector the in-process evaluation samples over time; the key is its PromQL text.</summary>
internal sealed record Signal(string Key, Func<MetricQuery, double[]?> Read);

/// <summary>Sampled signals: the newest values and the increase over a window.</summary>
internal interface ISignalSource
{
    double[]? Current(Signal signal);

    /// <summary>Newest minus the sample at or before <c>now - window</c> (or the oldest), with the seconds between them; null without two samples.</summary>
    (double[] Delta, double Seconds)? Increase(Signal signal, TimeSpan window);
}

/// <summary>A typed alert condition: renders PromQL, evaluates in-process, and generates firing and silent examples.</summary>
internal abstract class AlertCondition
{
    public abstract string PromQL { get; }

    public abstract IEnumerable<Signal> Signals { get; }

    public abstract TimeSpan LongestWindow { get; }

    public abstract bool Evaluate(ISignalSource source);

    public abstract AlertExample Example(bool firing, TimeSpan forDuration);

    internal static string Number(double value) => PrometheusNaming.FormatValue(value);

    internal static string Duration(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? $"{(int)span.TotalDays}d"
        : span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? $"{(int)span.TotalHours}h"
        : span.TotalMinutes >= 1 && span.TotalMinutes == Math.Floor(span.TotalMinutes) ? $"{(int)span.TotalMinutes}m"
        : $"{(int)span.TotalSeconds}s";

    /// <summary>A counter-like series growing by <paramref name="perMinute"/> each minute for <paramref name="minutes"/> minutes.</summary>
    internal static string Growing(double perMinute, int minutes) => $"0+{Number(perMinute)}x{minutes}";

    protected static int Minutes(TimeSpan span) => (int)Math.Ceiling(span.TotalMinutes);
}

/// <summary><c>max by (queue) (selector) &gt; threshold</c> and friends.</summary>
internal sealed class GaugeThreshold(Selector selector, string aggregation, string? byLabel, bool above, double threshold, ExampleSeries exampleSeries) : AlertCondition
{
    private readonly Signal _signal = new($"{aggregation}{(byLabel is null ? "" : $" by ({byLabel})")} ({selector})", q => q.Aggregate(selector, aggregation, byLabel));

    public override string PromQL => $"{_signal.Key} {(above ? ">" : "<")} {Number(threshold)}";

    public override IEnumerable<Signal> Signals => [_signal];

    public override TimeSpan LongestWindow => TimeSpan.Zero;

    public override bool Evaluate(ISignalSource source) =>
        source.Current(_signal) is { } values && values.Any(v => above ? v > threshold : v < threshold);

    public override AlertExample Example(bool firing, TimeSpan forDuration)
    {
        // The silent case sits exactly on the threshold, which proves the comparison is strict.
        var value = firing ? (above ? threshold + 1 : threshold > 0 ? 0 : threshold - 1) : threshold;
        var minutes = Minutes(forDuration) + 5;
        var labels = byLabel is null ? [] : ParseLabels(exampleSeries.Series).Where(l => l.Key == byLabel).ToList();
        return new([exampleSeries with { Values = $"{Number(value)}x{minutes}" }], forDuration + TimeSpan.FromMinutes(2), labels);
    }

    private static List<KeyValuePair<string, string>> ParseLabels(string series)
    {
        var open = series.IndexOf('{', StringComparison.Ordinal);
        if (open < 0)
        {
            return [];
        }

        return [.. series[(open + 1)..^1].Split(',').Select(p => p.Split('=', 2)).Select(p => new KeyValuePair<string, string>(p[0], p[1].Trim('"')))];
    }
}

/// <summary><c>sum(rate(selector[window])) &gt; threshold</c>; a zero threshold means "any increase".</summary>
internal sealed class RateThreshold(Selector selector, TimeSpan window, double threshold, string exampleSeries) : AlertCondition
{
    private readonly Signal _signal = new($"sum({selector})", q => q.Sum(selector) is { } v ? [v] : null);

    public override string PromQL => $"sum(rate({selector}[{Duration(window)}])) > {Number(threshold)}";

    public override IEnumerable<Signal> Signals => [_signal];

    public override TimeSpan LongestWindow => window;

    public override bool Evaluate(ISignalSource source) =>
        source.Increase(_signal, window) is { } inc && inc.Seconds > 0 && inc.Delta[0] / inc.Seconds > threshold;

    public override AlertExample Example(bool firing, TimeSpan forDuration)
    {
        var perMinute = threshold == 0 ? (firing ? 1 : 0) : threshold * 60 * (firing ? 2 : 0.5);
        var eval = forDuration + window + TimeSpan.FromMinutes(1);
        return new([new(exampleSeries, Growing(perMinute, Minutes(eval) + 5))], eval, []);
    }
}

/// <summary>The share of bad events over a window (an error ratio), as PromQL and in-process.</summary>
internal abstract class RatioSource
{
    public abstract IEnumerable<Signal> Signals { get; }

    public abstract string PromQL(TimeSpan window);

    public abstract double? Evaluate(ISignalSource source, TimeSpan window);

    /// <summary>Example series whose ratio is <paramref name="ratio"/>, 100 events a minute.</summary>
    public abstract IEnumerable<ExampleSeries> Example(double ratio, int minutes);
}

/// <summary><c>sum(rate(bad[w])) / sum(rate(total[w]))</c>.</summary>
internal sealed class CounterRatio(Selector bad, Selector total, string badExample, string otherExample, bool otherIsGood) : RatioSource
{
    private readonly Signal _bad = new($"sum({bad})", q => q.Sum(bad) is { } v ? [v] : null);
    private readonly Signal _total = new($"sum({total})", q => q.Sum(total) is { } v ? [v] : null);

    public override IEnumerable<Signal> Signals => [_bad, _total];

    public override string PromQL(TimeSpan window) => $"sum(rate({bad}[{AlertCondition.Duration(window)}])) / sum(rate({total}[{AlertCondition.Duration(window)}]))";

    public override double? Evaluate(ISignalSource source, TimeSpan window)
    {
        if (source.Increase(_total, window) is not { } t || t.Delta[0] <= 0)
        {
            return null;
        }

        return (source.Increase(_bad, window)?.Delta[0] ?? 0) / t.Delta[0];
    }

    public override IEnumerable<ExampleSeries> Example(double ratio, int minutes) =>
    [
        new(badExample, AlertCondition.Growing(100 * ratio, minutes)),
        new(otherExample, AlertCondition.Growing(otherIsGood ? 100 * (1 - ratio) : 100, minutes)),
    ];
}

/// <summary><c>1 - sum(rate(h_bucket{le="t"}[w])) / sum(rate(h_count[w]))</c>: the share of requests slower than t.</summary>
internal sealed class LatencyRatio : RatioSource
{
    private readonly Selector _fast;
    private readonly Selector _count;
    private readonly Signal _fastSignal;
    private readonly Signal _countSignal;

    public LatencyRatio(string histogram, double thresholdSeconds)
    {
        _fast = new(histogram + "_bucket", new LabelMatcher("le", AlertCondition.Number(thresholdSeconds)));
        _count = new(histogram + "_count");
        var fast = _fast;
        var count = _count;
        _fastSignal = new($"sum({fast})", q => q.Sum(fast) is { } v ? [v] : null);
        _countSignal = new($"sum({count})", q => q.Sum(count) is { } v ? [v] : null);
    }

    public override IEnumerable<Signal> Signals => [_fastSignal, _countSignal];

    public override string PromQL(TimeSpan window) =>
        $"(1 - sum(rate({_fast}[{AlertCondition.Duration(window)}])) / sum(rate({_count}[{AlertCondition.Duration(window)}])))";

    public override double? Evaluate(ISignalSource source, TimeSpan window)
    {
        if (source.Increase(_countSignal, window) is not { } c || c.Delta[0] <= 0)
        {
            return null;
        }

        return 1 - ((source.Increase(_fastSignal, window)?.Delta[0] ?? 0) / c.Delta[0]);
    }

    public override IEnumerable<ExampleSeries> Example(double ratio, int minutes) =>
    [
        new(_fast.ToString(), AlertCondition.Growing(100 * (1 - ratio), minutes)),
        new(_count.ToString(), AlertCondition.Growing(100, minutes)),
    ];
}

/// <summary><c>ratio(window) &gt; threshold</c>.</summary>
internal sealed class RatioThreshold(RatioSource ratio, TimeSpan window, double threshold) : AlertCondition
{
    public override string PromQL => $"{ratio.PromQL(window)} > {Number(threshold)}";

    public override IEnumerable<Signal> Signals => ratio.Signals;

    public override TimeSpan LongestWindow => window;

    public override bool Evaluate(ISignalSource source) => ratio.Evaluate(source, window) > threshold;

    public override AlertExample Example(bool firing, TimeSpan forDuration)
    {
        var eval = forDuration + window + TimeSpan.FromMinutes(1);
        var value = firing ? (threshold < 0.5 ? threshold * 2 : (threshold + 1) / 2) : threshold / 2;
        return new([.. ratio.Example(value, Minutes(eval) + 5)], eval, []);
    }
}

/// <summary><c>histogram_quantile(q, sum by (le) (rate(h_bucket[w]))) &gt; threshold</c>.</summary>
internal sealed class QuantileThreshold(string histogram, double quantile, TimeSpan window, double threshold) : AlertCondition
{
    private readonly Signal _buckets = new($"{histogram}_bucket", q => q.HistogramBuckets(histogram));
    private readonly Signal _bounds = new($"{histogram}_bucket_bounds", q => q.HistogramBounds(histogram));

    public override string PromQL =>
        $"histogram_quantile({Number(quantile)}, sum by (le) (rate({histogram}_bucket[{Duration(window)}]))) > {Number(threshold)}";

    public override IEnumerable<Signal> Signals => [_buckets, _bounds];

    public override TimeSpan LongestWindow => window;

    public override bool Evaluate(ISignalSource source)
    {
        if (source.Current(_bounds) is not { } bounds || source.Increase(_buckets, window) is not { } inc || inc.Delta.Length != bounds.Length + 1)
        {
            return false;
        }

        return MetricQuery.Quantile(quantile, bounds, inc.Delta) is { } value && value > threshold;
    }

    public override AlertExample Example(bool firing, TimeSpan forDuration)
    {
        var eval = forDuration + window + TimeSpan.FromMinutes(1);
        var minutes = Minutes(eval) + 5;
        var bounds = new[] { threshold / 2, threshold, threshold * 4 };

        // Firing: every observation lies between threshold and 4 x threshold; silent: all at or below threshold / 2.
        var series = bounds.Select(b => new ExampleSeries($"{histogram}_bucket{{le=\"{Number(b)}\"}}", Growing(firing ? (b > threshold ? 60 : 0) : 60, minutes)))
            .Append(new ExampleSeries($"{histogram}_bucket{{le=\"+Inf\"}}", Growing(60, minutes)));
        return new([.. series], eval, []);
    }
}

/// <summary>
/// The SRE workbook's multi-window, multi-burn-rate alert: fires when the error ratio exceeds factor x budget over both
/// the long and the short window of any pair.
/// </summary>
internal sealed class BurnRate(RatioSource ratio, double errorBudget, IReadOnlyList<(TimeSpan Long, TimeSpan Short, double Factor)> windows) : AlertCondition
{
    public override string PromQL => string.Join("\nor\n", windows.Select(w =>
        $"(\n  {ratio.PromQL(w.Long)} > {Number(Threshold(w.Factor))}\nand\n  {ratio.PromQL(w.Short)} > {Number(Threshold(w.Factor))}\n)"));

    public override IEnumerable<Signal> Signals => ratio.Signals;

    public override TimeSpan LongestWindow => windows.Max(w => w.Long);

    public override bool Evaluate(ISignalSource source) =>
        windows.Any(w => ratio.Evaluate(source, w.Long) > Threshold(w.Factor) && ratio.Evaluate(source, w.Short) > Threshold(w.Factor));

    // Rounded so that 14.4 x (1 - 0.999) renders as 0.0144, not 0.014400000000000013.
    private double Threshold(double factor) => Math.Round(factor * errorBudget, 12);

    public override AlertExample Example(bool firing, TimeSpan forDuration)
    {
        // Firing: twice the highest burn rate; silent: half the lowest, which also proves the lower-severity rate does not page.
        var value = firing ? Math.Min(1, 2 * windows.Max(w => w.Factor) * errorBudget) : 0.5 * windows.Min(w => w.Factor) * errorBudget;
        var eval = forDuration + TimeSpan.FromMinutes(10);
        return new([.. ratio.Example(value, Minutes(eval) + 5)], eval, []);
    }
}
