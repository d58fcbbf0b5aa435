using System.Collections.Concurrent;
using System.Globalization;

namespace Hardening.Drills.Load;

/// <summary>Latencies per endpoint and outcomes by status, from many concurrent callers.</summary>
internal sealed class RequestStats
{
    private readonly ConcurrentDictionary<string, List<double>> _latencies = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _expected;

    /// <summary>Stats where the given non-2xx outcomes (<c>"read-other-tenant 404"</c>) are what the drill expects, not errors.</summary>
    public RequestStats(params string[] expectedOutcomes) => _expected = new HashSet<string>(expectedOutcomes, StringComparer.Ordinal);

    /// <summary>Records one finished request: its endpoint, HTTP status (or an exception name) and milliseconds.</summary>
    public void Record(string endpoint, string outcome, double milliseconds)
    {
        var list = _latencies.GetOrAdd(endpoint, _ => []);
        lock (list)
        {
            list.Add(milliseconds);
        }

        _outcomes.AddOrUpdate($"{endpoint} {outcome}", 1, (_, n) => n + 1);
    }

    private readonly ConcurrentDictionary<string, string> _samples = new(StringComparer.Ordinal);

    /// <summary>Keeps the first response body of each non-2xx outcome (trimmed), so a report says who refused and why.</summary>
    public void Sample(string endpoint, string outcome, string body)
    {
        if (!outcome.StartsWith('2'))
        {
            _samples.TryAdd($"{endpoint} {outcome}", body.Length > 300 ? body[..300] : body);
        }
    }

    /// <summary>The first body of each non-2xx outcome.</summary>
    public SortedDictionary<string, string> Samples() => new(_samples, StringComparer.Ordinal);

    /// <summary>Requests recorded.</summary>
    public long Total => _outcomes.Values.Sum();

    /// <summary>Responses with a 5xx status.</summary>
    public long ServerErrors => _outcomes.Where(o => o.Key.Split(' ')[^1] is { Length: 3 } s && s[0] == '5').Sum(o => o.Value);

    /// <summary>How many requests ended with <paramref name="outcome"/> (a status such as <c>201</c>) at any endpoint.</summary>
    public long Count(string outcome) => _outcomes.Where(o => o.Key.Split(' ')[^1] == outcome).Sum(o => o.Value);

    /// <summary>Every outcome that is neither a 2xx nor expected, as "endpoint status" → count.</summary>
    public SortedDictionary<string, long> Errors() =>
        new(_outcomes.Where(o => !o.Key.Split(' ')[^1].StartsWith('2') && !_expected.Contains(o.Key)).ToDictionary(o => o.Key, o => o.Value), StringComparer.Ordinal);

    /// <summary>Every outcome, as "endpoint status" → count.</summary>
    public SortedDictionary<string, long> Outcomes() => new(_outcomes, StringComparer.Ordinal);

    /// <summary>Per endpoint: count, requests/s over <paramref name="seconds"/>, p50/p95/p99/max in ms.</summary>
    public SortedDictionary<string, object> Summary(double seconds)
    {
        var result = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (endpoint, list) in _latencies)
        {
            double[] sorted;
            lock (list)
            {
                sorted = [.. list];
            }

            Array.Sort(sorted);
            result[endpoint] = new SortedDictionary<string, double>(StringComparer.Ordinal)
            {
                ["count"] = sorted.Length,
                ["per_second"] = Math.Round(sorted.Length / Math.Max(seconds, 0.001), 1),
                ["p50_ms"] = Percentile(sorted, 0.50),
                ["p95_ms"] = Percentile(sorted, 0.95),
                ["p99_ms"] = Percentile(sorted, 0.99),
                ["max_ms"] = sorted.Length == 0 ? 0 : Math.Round(sorted[^1], 1),
            };
        }

        return result;
    }

    /// <summary>Writes the per-endpoint table and the errors.</summary>
    public void Print(TextWriter output, double seconds)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"endpoint",-22} {"count",8} {"req/s",8} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8}"));
        foreach (var (endpoint, value) in Summary(seconds))
        {
            var s = (SortedDictionary<string, double>)value;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{endpoint,-22} {s["count"],8} {s["per_second"],8:0.0} {s["p50_ms"],8:0.0} {s["p95_ms"],8:0.0} {s["p99_ms"],8:0.0} {s["max_ms"],8:0.0}"));
        }

        var errors = Errors();
        output.WriteLine(errors.Count == 0 ? "errors: none" : "errors: " + string.Join(", ", errors.Select(e => $"{e.Key}: {e.Value}")));
        foreach (var (key, body) in Samples().Where(s => errors.ContainsKey(s.Key)))
        {
            output.WriteLine($"  first {key}: {body.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>The <paramref name="q"/> quantile of sorted values (nearest rank), rounded to 0.1.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
        return Math.Round(sorted[Math.Clamp(rank, 0, sorted.Length - 1)], 1);
    }
}
