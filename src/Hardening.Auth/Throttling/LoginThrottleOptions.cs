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

/// <summary>What <see cref="LoginThrottle"/> does with an attempt that has no client address.</summary>
public enum LoginThrottleMissingAddress
{
    /// <summary>Refuse it (the default): the app must pass the client's address.</summary>
    Refuse = 0,

    /// <summary>Count it against the per-account limit only (no per-IP or per-network limit applies).</summary>
    AccountOnly = 1,
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

    /// <summary>
    /// Limit per client IP across accounts: password spraying. Default 100 per 15 min, lockout 1 min doubling to 1 h.
    /// IPv6 clients count per /64 (one subscriber usually holds a whole /64); an IPv4-mapped IPv6 address
    /// (<c>::ffff:192.0.2.1</c>) counts as its IPv4 address.
    /// </summary>
    public LoginThrottleLimit Ip { get; set; } = new() { Threshold = 100 };

    /// <summary>
    /// Coarser IPv6 limits, keyed by prefix length (16-63): each counts every attempt from any address in that prefix,
    /// with its own budget, so a client holding a /56 or /48 (what ISPs and clouds hand out) cannot spread its guesses
    /// over thousands of /64 buckets. Default: /56 at 300 and /48 at 1,000 per 15 min, lockout 1 min doubling to 1 h.
    /// Remove an entry to turn that prefix off; keep the budgets looser than <see cref="Ip"/>, since every user of the
    /// network shares them. IPv4 clients are not affected.
    /// </summary>
    /// <example><code>o.Ipv6NetworkLimits[48] = new() { Threshold = 2_000 };</code></example>
    public IDictionary<int, LoginThrottleLimit> Ipv6NetworkLimits { get; set; } = new SortedDictionary<int, LoginThrottleLimit>
    {
        [56] = new() { Threshold = 300 },
        [48] = new() { Threshold = 1_000 },
    };

    /// <summary>
    /// What an attempt without a client address (a null <c>clientIp</c>, e.g. behind a proxy whose forwarded headers
    /// are not processed) gets. Default <see cref="LoginThrottleMissingAddress.Refuse"/>: refused with
    /// <see cref="LoginThrottleScope.ClientAddressMissing"/> and logged, rather than pooled with every other such
    /// attempt in one shared bucket that one attacker could lock for everyone.
    /// </summary>
    public LoginThrottleMissingAddress MissingClientAddress { get; set; } = LoginThrottleMissingAddress.Refuse;

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

    internal string? NetworkProblem()
    {
        if (Ipv6NetworkLimits is null)
        {
            return "LoginThrottleOptions.Ipv6NetworkLimits must not be null; clear it to turn the IPv6 network limits off.";
        }

        foreach (var (length, limit) in Ipv6NetworkLimits)
        {
            if (length is < 16 or > 63)
            {
                return $"LoginThrottleOptions.Ipv6NetworkLimits has prefix length {length}; use 16-63 (the /64 is LoginThrottleOptions.Ip).";
            }

            if (limit is null || limit.Threshold < 0 || (limit.Threshold > 0 && (limit.Window <= TimeSpan.Zero || limit.Lockout <= TimeSpan.Zero || limit.MaxLockout < limit.Lockout)))
            {
                return $"LoginThrottleOptions.Ipv6NetworkLimits[{length}] is invalid; it needs Threshold >= 0 and, when on, Window > 0 and 0 < Lockout <= MaxLockout.";
            }
        }

        return Enum.IsDefined(MissingClientAddress)
            ? null
            : $"LoginThrottleOptions.MissingClientAddress is {(int)MissingClientAddress}; use Refuse or AccountOnly.";
    }
}
