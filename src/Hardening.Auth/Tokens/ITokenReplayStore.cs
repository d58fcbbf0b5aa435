namespace Hardening.Auth.Tokens;

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
/// An atomic "add if absent, until" on a fixed-size key. Implementations throw when the backing server cannot be
/// reached; the guard turns that into a denial. Kept narrow so another Redis client is a small adapter.
/// </summary>
internal interface ITokenReplayStore
{
    /// <summary>A short name for logs (<c>memory</c>, <c>redis</c>).</summary>
    string Name { get; }

    ValueTask<ReplayStoreResult> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, CancellationToken cancellationToken);
}
