using Microsoft.AspNetCore.Http;

namespace Hardening.Auth.RateLimiting;

/// <summary>Options of the Redis-backed rate limiter registered by <c>AddHardeningRedisRateLimiter</c>.</summary>
public sealed class RedisRateLimiterOptions
{
    /// <summary>Redis connection string (<c>host:port[,password=...]</c>). Required: the point of this limiter is that all instances share it.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Requests allowed per <see cref="Window"/> and per partition, also the largest burst (default 100).</summary>
    public int PermitLimit { get; set; } = 100;

    /// <summary>The window the <see cref="PermitLimit"/> refills over (default 1 minute); one permit comes back every Window / PermitLimit.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The partition of a request (default: the client IP address, or "unknown").</summary>
    public Func<HttpContext, string> PartitionKey { get; set; } = static context => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>Prefix of the Redis keys (default <c>hardening:rl:</c>); keys hold a hash of the partition key.</summary>
    public string KeyPrefix { get; set; } = "hardening:rl:";

    /// <summary>When true, requests pass unlimited while Redis is unreachable (logged). Default false: they get 429.</summary>
    public bool FailOpen { get; set; }
}
