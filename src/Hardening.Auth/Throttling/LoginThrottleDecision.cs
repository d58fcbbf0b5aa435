namespace Hardening.Auth;

/// <summary>Which limit refused an attempt.</summary>
public enum LoginThrottleScope
{
    /// <summary>No limit (the attempt was allowed).</summary>
    None = 0,

    /// <summary>The (account, client IP) limit.</summary>
    AccountAndIp = 1,

    /// <summary>The per-account limit.</summary>
    Account = 2,

    /// <summary>The per-IP limit.</summary>
    Ip = 3,

    /// <summary>The throttle's store could not be reached (fail closed).</summary>
    StoreUnavailable = 4,

    /// <summary>A coarser IPv6 network limit (<see cref="LoginThrottleOptions.Ipv6NetworkLimits"/>).</summary>
    Ipv6Network = 5,

    /// <summary>The attempt had no client address (<see cref="LoginThrottleOptions.MissingClientAddress"/>).</summary>
    ClientAddressMissing = 6,
}

/// <summary>The answer of <see cref="LoginThrottle.AcquireAsync"/>.</summary>
/// <param name="IsAllowed">True when the attempt may go on to password verification.</param>
/// <param name="RetryAfter">When refused: how long until an attempt can be admitted again.</param>
/// <param name="Scope">When refused: the limit that refused it.</param>
public readonly record struct LoginThrottleDecision(bool IsAllowed, TimeSpan RetryAfter, LoginThrottleScope Scope)
{
    /// <summary><see cref="RetryAfter"/> in whole seconds, rounded up, for a <c>Retry-After</c> header (0 when allowed).</summary>
    public long RetryAfterSeconds => IsAllowed ? 0 : Math.Max(1, (long)Math.Ceiling(RetryAfter.TotalSeconds));
}
