namespace Hardening.Auth;

/// <summary>
/// Decides and records one attempt against several rules atomically. The semantics (shared by every store and by
/// the reference model in the tests): a record past its expiry is empty; if any rule is locked the attempt is refused
/// and nothing changes; otherwise every rule counts it (a new window opens when the old one is over), and a rule whose
/// count reaches its threshold locks for min(lockout * 2^level, max), bumps its level and starts a new window.
/// A record expires max(window end, lock end) + max lockout.
/// </summary>
internal interface ILoginThrottleStore
{
    string Name { get; }

    ValueTask<ThrottleOutcome> AcquireAsync(ThrottleRule[] rules, CancellationToken cancellationToken);

    ValueTask ResetAsync(string[] keys, CancellationToken cancellationToken);
}

/// <summary>The state of one rule's key, and the transition shared by the in-memory store.</summary>
internal struct ThrottleRecord
{
    public long Count;
    public long WindowEnd;
    public long LockedUntil;
    public long Level;
    public long ExpiresAt;

    public static long LockDuration(long lockoutMs, long maxLockoutMs, long level)
    {
        var d = lockoutMs;
        for (var i = 0; i < level && d < maxLockoutMs; i++)
        {
            d *= 2;
        }

        return Math.Min(d, maxLockoutMs);
    }

    /// <summary>Counts one admitted attempt; returns the lockout it started (0 for none).</summary>
    public long Admit(long now, in ThrottleRule rule)
    {
        if (now >= WindowEnd)
        {
            Count = 0;
            WindowEnd = now + rule.WindowMs;
        }

        Count++;
        long started = 0;
        if (Count >= rule.Threshold)
        {
            started = LockDuration(rule.LockoutMs, rule.MaxLockoutMs, Level);
            LockedUntil = now + started;
            Level++;
            Count = 0;
            WindowEnd = now;
        }

        ExpiresAt = Math.Max(WindowEnd, LockedUntil) + rule.MaxLockoutMs;
        return started;
    }
}
