using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>
/// Periodic samples of the signals the alert rules read, so that rates over 5 minutes to 3 days can be evaluated
/// in-process: a fine ring (every sample, 6 hours) and a coarse ring (one sample per 10 minutes, 3 days + 10 minutes).
/// </summary>
internal sealed class SignalHistory(TimeProvider time) : ISignalSource
{
    private static readonly TimeSpan FineRetention = TimeSpan.FromHours(6) + TimeSpan.FromMinutes(5);
    private static readonly TimeSpan CoarseStep = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan CoarseRetention = TimeSpan.FromDays(3) + TimeSpan.FromMinutes(20);

    private readonly Lock _gate = new();
    private readonly List<Sample> _fine = [];
    private readonly List<Sample> _coarse = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _fine.Count;
            }
        }
    }

    public void Take(IEnumerable<Signal> signals, MetricQuery query)
    {
        var values = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var signal in signals)
        {
            if (!values.ContainsKey(signal.Key) && signal.Read(query) is { } v)
            {
                values[signal.Key] = v;
            }
        }

        var sample = new Sample(time.GetUtcNow(), values);
        lock (_gate)
        {
            // Samples less than a second apart replace each other, so frequent page loads cannot flood the history.
            if (_fine.Count > 0 && sample.At - _fine[^1].At < TimeSpan.FromSeconds(1))
            {
                _fine.RemoveAt(_fine.Count - 1);
            }

            _fine.Add(sample);
            _fine.RemoveAll(s => sample.At - s.At > FineRetention);
            if (_coarse.Count == 0 || sample.At - _coarse[^1].At >= CoarseStep)
            {
                _coarse.Add(sample);
                _coarse.RemoveAll(s => sample.At - s.At > CoarseRetention);
            }
        }
    }

    public double[]? Current(Signal signal)
    {
        lock (_gate)
        {
            return _fine.Count > 0 && _fine[^1].Values.TryGetValue(signal.Key, out var v) ? v : null;
        }
    }

    public (double[] Delta, double Seconds)? Increase(Signal signal, TimeSpan window)
    {
        lock (_gate)
        {
            if (_fine.Count < 2 || !_fine[^1].Values.TryGetValue(signal.Key, out var now))
            {
                return null;
            }

            var latest = _fine[^1];
            var ring = window <= TimeSpan.FromHours(6) ? _fine : _coarse;
            var target = latest.At - window;
            Sample? start = null;
            foreach (var s in ring)
            {
                if (s.At >= latest.At || !s.Values.ContainsKey(signal.Key))
                {
                    continue;
                }

                if (start is null || s.At <= target)
                {
                    start = s;
                }

                if (s.At > target)
                {
                    break;
                }
            }

            if (start is null || !start.Values.TryGetValue(signal.Key, out var then) || then.Length != now.Length)
            {
                return null;
            }

            var delta = new double[now.Length];
            for (var i = 0; i < now.Length; i++)
            {
                // A restart resets counters: treat the new value as the whole increase, as PromQL's rate does.
                delta[i] = now[i] >= then[i] ? now[i] - then[i] : now[i];
            }

            return (delta, (latest.At - start.At).TotalSeconds);
        }
    }

    private sealed record Sample(DateTimeOffset At, Dictionary<string, double[]> Values);
}
