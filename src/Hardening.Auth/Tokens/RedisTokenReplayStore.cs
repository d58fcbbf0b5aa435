using Hardening.Redis;

namespace Hardening.Auth.Tokens;

/// <summary>One round trip per consume: <c>SET key 1 NX PXAT retainUntil</c>. Redis expires the key itself.</summary>
internal sealed class RedisTokenReplayStore(RedisConnection connection, string keyPrefix) : ITokenReplayStore
{
    public string Name => "redis";

    public async ValueTask<ReplayStoreResult> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, CancellationToken cancellationToken)
    {
        var added = await connection.SetAsync(key.ToRedisKey(keyPrefix), 1L, RedisSetCondition.NotExists, expiresAt: retainUntil, cancellationToken: cancellationToken).ConfigureAwait(false);
        return added ? ReplayStoreResult.Added : ReplayStoreResult.Exists;
    }
}
