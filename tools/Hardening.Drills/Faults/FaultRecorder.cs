using System.Collections.Concurrent;
using System.Diagnostics;

namespace Hardening.Drills.Faults;

/// <summary>One request as the drill saw it: what (kind), when it started and ended (ms since the drill's start), the status (0 = no HTTP answer, -1 = no answer within the hang limit) and a key (the token or the candidate it was about).</summary>
internal sealed record Outcome(string Kind, double StartMs, double EndMs, int Status, string? Key = null, bool FromProxy = false)
{
    public double ElapsedMs => EndMs - StartMs;

    public bool Succeeded => Status is >= 200 and < 300;
}

/// <summary>A fault's timeline in ms since the drill's start: the component stopped (down, after it was gone) and was started again (up: the start began; ready: it answered).</summary>
internal sealed record FaultWindow(string Name, double DownMs, double UpMs, double ReadyMs)
{
    /// <summary>When the next fault began (the end of this one's recovery period).</summary>
    public double EndMs { get; set; } = double.MaxValue;

    /// <summary>True when the request ran wholly while the component was down.</summary>
    public bool Contains(Outcome o) => o.StartMs >= DownMs && o.EndMs <= UpMs;
}

/// <summary>The drill's clock and every request outcome, thread-safe.</summary>
internal sealed class FaultRecorder
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Outcome> _outcomes = new();

    public double NowMs => _clock.Elapsed.TotalMilliseconds;

    public void Add(Outcome outcome) => _outcomes.Enqueue(outcome);

    public IReadOnlyList<Outcome> Snapshot() => [.. _outcomes];

    private readonly List<FaultWindow> _windows = [];

    /// <summary>A fault (or the end of the load) begins now: the previous fault's recovery period ends here.</summary>
    public void BeginFault()
    {
        if (_windows.Count > 0 && _windows[^1].EndMs == double.MaxValue)
        {
            _windows[^1].EndMs = NowMs;
        }
    }

    /// <summary>Records a fault's timeline.</summary>
    public FaultWindow Window(string name, double downMs, double upMs, double readyMs)
    {
        var window = new FaultWindow(name, downMs, upMs, readyMs);
        _windows.Add(window);
        return window;
    }
}

/// <summary>Small statistics for the figures.</summary>
internal static class Stats
{
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return Math.Round(sorted[Math.Clamp(rank, 0, sorted.Length - 1)], 1);
    }

    /// <summary>Counts by status as <c>{"503": 12, "503 haproxy": 4, "200": 3}</c> (0 = no answer, -1 = hang; "haproxy" = HAProxy answered, no instance was up).</summary>
    public static SortedDictionary<string, int> ByStatus(IEnumerable<Outcome> outcomes) =>
        new(outcomes.GroupBy(o => o.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) + (o.FromProxy ? " haproxy" : "")).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);
}
