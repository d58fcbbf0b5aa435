using Hardening.Auth;
using Microsoft.AspNetCore.Http;

namespace Hardening.Auth;

/// <summary>Options of one Redis rate-limiting policy added with <c>RateLimiterOptions.AddRedisGcraLimiter</c>.</summary>
public sealed class RedisRateLimiterOptions
{
    /// <summary>Requests allowed per <see cref="Window"/> and per partition, also the largest burst (default 100).</summary>
    public int PermitLimit { get; set; } = 100;

    /// <summary>The window the <see cref="PermitLimit"/> refills over (default 1 minute); one permit comes back every Window / PermitLimit.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The partition of a request (default: <see cref="ClientNetwork"/>, the client's IPv4 address or IPv6 /64). Use the
    /// user, tenant or API key where that is what should be limited; a null or empty key is refused with 429.
    /// </summary>
    public Func<HttpContext, string?> PartitionKey { get; set; } = ClientNetwork;

    /// <summary>
    /// Coarser IPv6 limits over the same <see cref="Window"/>, keyed by prefix length (16-63) with their own permit
    /// limit, so a client holding a /56 or /48 cannot multiply its budget by rotating /64s. They apply to IPv6 clients
    /// with the default <see cref="PartitionKey"/> (<see cref="ClientNetwork"/>); null (the default) means
    /// /56 at 4 x <see cref="PermitLimit"/> and /48 at 16 x <see cref="PermitLimit"/>; an empty dictionary turns them
    /// off. With a partition key of your own they are off, and setting them is refused at start-up (they would need the
    /// partition to be the client's network).
    /// </summary>
    public IDictionary<int, int>? Ipv6NetworkLimits { get; set; }

    /// <summary>Prefix of the Redis keys (default <c>hardening:rl:</c>); keys hold the policy name and a hash of the partition key.</summary>
    public string KeyPrefix { get; set; } = "hardening:rl:";

    /// <summary>The DI service key of the multiplexer to use; null (the default) for the unkeyed <c>IConnectionMultiplexer</c>.</summary>
    public object? RedisServiceKey { get; set; }

    /// <summary>The longest a decision waits for Redis (default 1 second); past it the request is refused (unless <see cref="FailOpen"/>).</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>When true, requests pass unlimited while Redis is unreachable (logged). Default false: they get 429.</summary>
    public bool FailOpen { get; set; }

    /// <summary>
    /// The client's network as a partition key: an IPv4 address (IPv4-mapped IPv6 addresses count as IPv4), or the /64
    /// of an IPv6 address (one subscriber usually holds a whole /64); null when the connection has no remote address
    /// (refused with 429, never pooled). Behind a proxy this is the proxy's address unless the app processes the
    /// forwarded headers first (<c>app.UseForwardedHeaders()</c> with the proxy in <c>KnownProxies</c>; see the README).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <returns>The key, or null.</returns>
    public static string? ClientNetwork(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = context.Connection.RemoteIpAddress;
        return address is null ? null : ThrottleKeys.Network(address);
    }

    internal IReadOnlyList<KeyValuePair<int, int>> EffectiveNetworkLimits()
    {
        if (!PartitionsByClientNetwork)
        {
            return [];
        }

        var limits = Ipv6NetworkLimits ?? new Dictionary<int, int> { [56] = 4 * PermitLimit, [48] = 16 * PermitLimit };
        return [.. limits.OrderByDescending(l => l.Key)];
    }

    private bool PartitionsByClientNetwork => PartitionKey is { Target: null } key && key.Method == DefaultPartition.Method;

    private static readonly Func<HttpContext, string?> DefaultPartition = ClientNetwork;

    internal IEnumerable<string> Problems()
    {
        if (Ipv6NetworkLimits is { Count: > 0 } networks)
        {
            if (PartitionKey is not null && !PartitionsByClientNetwork)
            {
                yield return "RedisRateLimiterOptions.Ipv6NetworkLimits apply only with the default PartitionKey (RedisRateLimiterOptions.ClientNetwork); add a second policy partitioned by client network, or clear them.";
            }

            foreach (var (length, permits) in networks)
            {
                if (length is < 16 or > 63 || permits < 1)
                {
                    yield return $"RedisRateLimiterOptions.Ipv6NetworkLimits[{length}] = {permits}; prefix lengths must be 16-63 (the /64 is the partition itself) and permit limits at least 1.";
                }
            }
        }

        if (PermitLimit < 1)
        {
            yield return $"RedisRateLimiterOptions.PermitLimit is {PermitLimit}; it must be at least 1.";
        }

        if (Window < TimeSpan.FromMilliseconds(1))
        {
            yield return $"RedisRateLimiterOptions.Window is {Window}; it must be at least 1 ms.";
        }

        if (PartitionKey is null)
        {
            yield return "RedisRateLimiterOptions.PartitionKey must not be null; use RedisRateLimiterOptions.ClientNetwork or a key of your own.";
        }

        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.AsSpan().IndexOfAny("{} \r\n") >= 0)
        {
            yield return $"RedisRateLimiterOptions.KeyPrefix '{KeyPrefix}' must be non-empty without spaces or braces, e.g. 'hardening:rl:'.";
        }

        if (StoreTimeout <= TimeSpan.Zero || StoreTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"RedisRateLimiterOptions.StoreTimeout is {StoreTimeout}; it must be more than 0 and at most 1 minute.";
        }
    }
}
