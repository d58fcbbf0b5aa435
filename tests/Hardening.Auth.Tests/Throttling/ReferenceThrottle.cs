namespace Hardening.Auth.Tests.Throttling;

/// <summary>
/// The specification of the login throttle, written as plainly as possible (one record per scope key, time in ms):
/// an attempt is refused while any of its three records is locked (Retry-After = the longest remaining lock, ties to
/// the first scope); otherwise each record counts it in the window opened by its first attempt, and the attempt that
/// reaches the threshold locks the record for the next entry of its backoff table (<see cref="Multiples"/>), raises
/// the level and closes the window.
/// A record is forgotten max(window end, lock end) + cap after its last change; success forgets pair and account.
/// </summary>
public sealed class ReferenceThrottle
{
    /// <summary>
    /// Lockout lengths as multiples of Lockout, one row per Cap / Lockout (the generators use 1..8), written out by hand
    /// rather than computed: each lockout doubles the one before until the cap, and stays at the cap after.
    /// </summary>
    private static readonly long[][] Multiples =
    [
        [],
        [1],
        [1, 2],
        [1, 2, 3],
        [1, 2, 4],
        [1, 2, 4, 5],
        [1, 2, 4, 6],
        [1, 2, 4, 7],
        [1, 2, 4, 8],
    ];

    private readonly Dictionary<string, Rec> _records = [];

    public sealed record Limit(int Threshold, long Window, long Lockout, long Cap);

    public (bool Allowed, long RetryMs, int Scope) Acquire(long now, string account, string network, Limit[] limits)
    {
        var keys = Keys(account, network);
        for (var i = 0; i < 3; i++)
        {
            if (_records.TryGetValue(keys[i], out var r) && now >= r.Forget)
            {
                _records.Remove(keys[i]);
            }
        }

        long retry = 0;
        var scope = -1;
        for (var i = 0; i < 3; i++)
        {
            if (limits[i].Threshold > 0 && _records.TryGetValue(keys[i], out var r) && r.LockedUntil - now > retry)
            {
                retry = r.LockedUntil - now;
                scope = i;
            }
        }

        if (scope >= 0)
        {
            return (false, retry, scope);
        }

        for (var i = 0; i < 3; i++)
        {
            var l = limits[i];
            if (l.Threshold == 0)
            {
                continue;
            }

            var r = _records.GetValueOrDefault(keys[i]) ?? new Rec(0, 0, 0, 0, 0);
            var (count, windowEnd) = now >= r.WindowEnd ? (0, now + l.Window) : (r.Count, r.WindowEnd);
            count++;
            var lockedUntil = r.LockedUntil;
            var level = r.Level;
            if (count >= l.Threshold)
            {
                lockedUntil = now + LockFor(l, level);
                level++;
                count = 0;
                windowEnd = now;
            }

            _records[keys[i]] = new Rec(count, windowEnd, lockedUntil, level, Math.Max(windowEnd, lockedUntil) + l.Cap);
        }

        return (true, 0, -1);
    }

    public void Succeed(string account, string network)
    {
        var keys = Keys(account, network);
        _records.Remove(keys[0]);
        _records.Remove(keys[1]);
    }

    private static long LockFor(Limit l, int level)
    {
        if (l.Lockout <= 0 || l.Cap % l.Lockout != 0 || l.Cap / l.Lockout is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(l), l, "The reference's backoff table covers caps of 1 to 8 lockouts.");
        }

        var row = Multiples[l.Cap / l.Lockout];
        return l.Lockout * row[Math.Min(level, row.Length - 1)];
    }

    private static string[] Keys(string account, string network) => [$"p|{account}|{network}", $"a|{account}", $"i|{network}"];

    private sealed record Rec(int Count, long WindowEnd, long LockedUntil, int Level, long Forget);
}
