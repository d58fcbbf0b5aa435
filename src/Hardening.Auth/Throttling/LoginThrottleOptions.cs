namespace Hardening.Auth;

/// <summary>
/// One limit of <see cref="LoginThrottle"/>: at most <see cref="Threshold"/> attempts per <see cref="Window"/>
/// (a window opens at the first attempt after the previous one closed); the attempt that reaches the threshold starts
/// a lockout of <see cref="Lockout"/>, doubled for each further lockout and capped at <see cref="MaxLockout"/>.
/// </summary>
public sealed class LoginThrottleLimit
{
    /// <summary>Attempts admitted per window before a lockout; 0 turns this limit off.</summary>
    public int Threshold { get; set; }

    /// <summary>Length of a counting window.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Length of the first lockout.</summary>
    public TimeSpan Lockout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Cap of the doubling lockouts. Also the quiet time after which the escalation is forgotten: a record expires
    /// <see cref="MaxLockout"/> after its window or lockout ended.
    /// </summary>
    public TimeSpan MaxLockout { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Options of <see cref="LoginThrottle"/>.</summary>
public sealed class LoginThrottleOptions
{
    /// <summary>Limit per (account, client IP) pair: the guessing of one attacker on one account. Default 5 per 15 min, lockout 1 min doubling to 1 h.</summary>
    public LoginThrottleLimit AccountAndIp { get; set; } = new() { Threshold = 5 };

    /// <summary>
    /// Limit per account across all IPs: distributed guessing on one account. Default 20 per 15 min, lockout 1 min
    /// doubling to 15 min. Keep it looser than <see cref="AccountAndIp"/>: anyone can trip it and lock the real user out.
    /// </summary>
    public LoginThrottleLimit Account { get; set; } = new() { Threshold = 20, MaxLockout = TimeSpan.FromMinutes(15) };

    /// <summary>Limit per client IP across accounts: password spraying. Default 100 per 15 min, lockout 1 min doubling to 1 h. IPv6 clients count per /64.</summary>
    public LoginThrottleLimit Ip { get; set; } = new() { Threshold = 100 };

    /// <summary>
    /// When true, the counters live in Redis, on the app's own <c>IConnectionMultiplexer</c> resolved from DI, and are
    /// shared by every instance. When false (the default) they live in this process only (one instance).
    /// </summary>
    public bool UseRedis { get; set; }

    /// <summary>The DI service key of the multiplexer to use; null (the default) for the unkeyed registration.</summary>
    public object? RedisServiceKey { get; set; }

    /// <summary>The longest a decision waits for Redis (default 2 seconds); past it the attempt is refused (unless <see cref="FailOpen"/>).</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Prefix of the Redis keys (default <c>hardening:login:</c>); keys hold hashes, never account names or IPs. In Redis
    /// every key is <c>{prefix}...</c>: one hash tag, so a decision over several keys is atomic on a cluster.
    /// </summary>
    public string KeyPrefix { get; set; } = "hardening:login:";

    /// <summary>Upper bound on in-memory records (default 1,000,000); when full of live records, attempts are refused (fail closed).</summary>
    public int MaxInMemoryEntries { get; set; } = 1_000_000;

    /// <summary>When true, an attempt is ALLOWED unthrottled if the store cannot be reached (logged as critical). Default false: refused.</summary>
    public bool FailOpen { get; set; }
}
