namespace Hardening.Auth;

/// <summary>Options of <see cref="TokenReplayGuard"/>.</summary>
public sealed class TokenReplayGuardOptions
{
    /// <summary>
    /// When true, consumed token ids are kept in Redis, on the app's own <c>IConnectionMultiplexer</c> resolved from DI,
    /// and shared by every instance of the app. When false (the default) they are kept in this process only, which is
    /// correct for a single instance and wrong for several. The guard never falls back from Redis to memory.
    /// </summary>
    public bool UseRedis { get; set; }

    /// <summary>
    /// The DI service key of the multiplexer to use (<c>AddKeyedSingleton&lt;IConnectionMultiplexer&gt;(key, ...)</c>), for an
    /// app with several Redis deployments or a dedicated connection for <see cref="WaitForReplicas"/>. Null (the default):
    /// the unkeyed registration.
    /// </summary>
    public object? RedisServiceKey { get; set; }

    /// <summary>Prefix of the Redis keys (default <c>hardening:jti:</c>). Each key is this prefix plus <c>{g}</c> and 43 characters.</summary>
    public string KeyPrefix { get; set; } = "hardening:jti:";

    /// <summary>
    /// How long after the token's expiry a consumed id is still remembered (default 5 minutes, JwtBearer's default
    /// <c>ClockSkew</c>). Use at least the clock skew of the token validation, or a replay becomes possible in the
    /// window where the token still validates but its id was forgotten.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest a consume waits for the store (default 2 seconds); past it the token is refused as
    /// <see cref="TokenConsumeResult.StoreUnavailable"/>, whatever the multiplexer's own timeouts are.
    /// </summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Replicas that must acknowledge a consumed id before the consume succeeds (Redis <c>WAIT</c>; default 0 = off).
    /// Redis replicates asynchronously, so a master that dies right after a consume can lose it and the promoted replica
    /// would accept the token again; with 1 or more, a consume the replicas did not confirm is refused instead. Costs one
    /// more round trip, and <c>WAIT</c> holds the connection while it waits: give the guard its own multiplexer
    /// (<see cref="RedisServiceKey"/>).
    /// </summary>
    public int WaitForReplicas { get; set; }

    /// <summary>How long <c>WAIT</c> may take when <see cref="WaitForReplicas"/> is on (default 500 ms).</summary>
    public TimeSpan ReplicaWaitTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Upper bound on remembered ids in the in-memory store (default 100,000). When it is full of live ids, consumes are
    /// refused (fail closed); a live id is never evicted to make room.
    /// </summary>
    public int MaxInMemoryEntries { get; set; } = 100_000;

    /// <summary>
    /// When true, a consume is ACCEPTED without a replay check if the store cannot be reached (logged as a critical
    /// security event each time). Default false: the guard refuses (fail closed).
    /// </summary>
    public bool FailOpen { get; set; }

    /// <summary>
    /// When true, tokens issued before the store last lost its memory are accepted (logged as a critical security event
    /// each time). Default false: they are refused as <see cref="TokenConsumeResult.IssuedBeforeStoreLoss"/>, because
    /// the store can no longer tell whether they were used. The in-memory store's memory starts with the process.
    /// </summary>
    public bool AcceptTokensIssuedBeforeStoreLoss { get; set; }
}
