namespace Hardening.Auth;

/// <summary>What a replay store did with a key.</summary>
internal enum ReplayStoreResult
{
    /// <summary>The key was not live and is now recorded until the given time.</summary>
    Added,

    /// <summary>The key is live: a replay.</summary>
    Exists,

    /// <summary>The store is bounded and full of live keys; nothing was recorded.</summary>
    Full,
}

/// <summary>
/// A store's answer: what it did, and since when it has remembered the part of the key space the key belongs to. A
/// store that lost its memory (restart without persistence, FLUSHALL, eviction, failover to a replica that had not
/// caught up) reports a later time, so tokens issued before it cannot be trusted to be unused.
/// </summary>
internal readonly record struct ReplayStoreAnswer(ReplayStoreResult Result, DateTimeOffset RememberedSince);

/// <summary>
/// An atomic "add if absent, until" on a fixed-size key. Implementations throw when the backing server cannot be
/// reached or does not answer in time; the guard turns that into a denial.
/// </summary>
internal interface ITokenReplayStore
{
    /// <summary>A short name for logs (<c>memory</c>, <c>redis</c>).</summary>
    string Name { get; }

    ValueTask<ReplayStoreAnswer> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, DateTimeOffset now, CancellationToken cancellationToken);
}
