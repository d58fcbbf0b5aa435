namespace Hardening.Auth;

/// <summary>Throttle records in this process; one lock (login rates are low), bounded, expired records swept when full.</summary>
internal sealed class InMemoryLoginThrottleStore(int maxEntries, TimeProvider time) : ILoginThrottleStore
{
    private readonly Dictionary<string, ThrottleRecord> _records = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public string Name => "memory";

    public ValueTask<ThrottleOutcome> AcquireAsync(ThrottleRule[] rules, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            long retry = 0;
            var scope = -1;
            for (var i = 0; i < rules.Length; i++)
            {
                if (rules[i].Threshold > 0 && Load(rules[i].Key, now) is { } r && now < r.LockedUntil && r.LockedUntil - now > retry)
                {
                    retry = r.LockedUntil - now;
                    scope = i;
                }
            }

            if (scope >= 0)
            {
                return new(new ThrottleOutcome(false, retry, scope, 0, 0));
            }

            var needed = rules.Count(r => r.Threshold > 0 && !_records.ContainsKey(r.Key));
            if (_records.Count + needed > maxEntries)
            {
                Sweep(now);
                if (_records.Count + needed > maxEntries)
                {
                    throw new InvalidOperationException($"The in-memory login throttle holds {_records.Count} live records (MaxInMemoryEntries = {maxEntries}).");
                }
            }

            var mask = 0;
            long lockMs = 0;
            for (var i = 0; i < rules.Length; i++)
            {
                if (rules[i].Threshold <= 0)
                {
                    continue;
                }

                var record = Load(rules[i].Key, now) ?? default;
                var started = record.Admit(now, rules[i]);
                _records[rules[i].Key] = record;
                if (started > 0)
                {
                    mask |= 1 << i;
                    lockMs = Math.Max(lockMs, started);
                }
            }

            return new(new ThrottleOutcome(true, 0, -1, mask, lockMs));
        }
    }

    public ValueTask ResetAsync(string[] keys, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var key in keys)
            {
                _records.Remove(key);
            }
        }

        return ValueTask.CompletedTask;
    }

    private ThrottleRecord? Load(string key, long now)
    {
        if (!_records.TryGetValue(key, out var r))
        {
            return null;
        }

        if (now >= r.ExpiresAt)
        {
            _records.Remove(key);
            return null;
        }

        return r;
    }

    private void Sweep(long now)
    {
        foreach (var (key, r) in _records)
        {
            if (now >= r.ExpiresAt)
            {
                _records.Remove(key);
            }
        }
    }
}
