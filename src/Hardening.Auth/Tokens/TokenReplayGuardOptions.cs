using System.ComponentModel.DataAnnotations;

namespace Hardening.Auth.Tokens;

/// <summary>Options of <see cref="TokenReplayGuard"/>.</summary>
public sealed class TokenReplayGuardOptions
{
    /// <summary>
    /// Redis connection string (<c>host:port[,password=...]</c>). When set, consumed token ids are kept in Redis and
    /// shared by every instance of the app; when null (the default) they are kept in this process only, which is
    /// correct for a single instance and wrong for several. The guard never falls back from Redis to memory.
    /// </summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Prefix of the Redis keys (default <c>hardening:jti:</c>). Each key is this prefix plus 43 characters.</summary>
    [Required]
    public string KeyPrefix { get; set; } = "hardening:jti:";

    /// <summary>
    /// How long after the token's expiry a consumed id is still remembered (default 5 minutes, JwtBearer's default
    /// <c>ClockSkew</c>). Use at least the clock skew of the token validation, or a replay becomes possible in the
    /// window where the token still validates but its id was forgotten.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Upper bound on remembered ids in the in-memory store (default 100,000). When it is full of live ids, consumes are
    /// refused (fail closed); a live id is never evicted to make room.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxInMemoryEntries { get; set; } = 100_000;

    /// <summary>
    /// When true, a consume is ACCEPTED without a replay check if the store cannot be reached (logged as a critical
    /// security event each time). Default false: the guard refuses (fail closed).
    /// </summary>
    public bool FailOpen { get; set; }
}
