using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Hardening.Auth;

/// <summary>
/// The replay store on the app's <see cref="IConnectionMultiplexer"/>: one round trip per consume, two commands sent
/// together as one batch: <c>SET jti 1 NX PXAT retain</c>, then <c>GET</c> of the jti's group marker (the two keys share a
/// hash tag, so they go to one node of a cluster). The marker records since when the group has been remembered: a group
/// whose marker vanished (restart without persistence, FLUSHALL, eviction, a failover to a replica that had not received
/// it) gets a new one, and tokens issued before it are refused by the guard.
/// </summary>
/// <remarks>
/// The order is what makes the pair safe without a script: the marker is read after the SET. If the store lost its
/// memory before the SET, the marker read after it is either missing (this consume re-creates it, dated now) or was
/// re-created since the loss (dated after it), so a token issued before the loss is refused either way; if the loss
/// happened between the two commands, the SET ran against the full memory and the missing marker only refuses more.
/// </remarks>
internal sealed class RedisTokenReplayStore : ITokenReplayStore
{
    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly TimeSpan _timeout;
    private readonly int _replicas;
    private readonly TimeSpan _replicaTimeout;
    private readonly TimeProvider _time;
    private readonly RedisKey[] _markerKeys;
    private readonly Lock _gate = new();
    private Task? _markers;

    public RedisTokenReplayStore(IConnectionMultiplexer redis, TokenReplayGuardOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _db = redis.GetDatabase();
        _prefix = options.KeyPrefix;
        _timeout = options.StoreTimeout;
        _replicas = options.WaitForReplicas;
        _replicaTimeout = options.ReplicaWaitTimeout;
        _time = time;
        _markerKeys = [.. ReplayKey.AllRedisMarkers(_prefix).Select(m => (RedisKey)m)];
        lock (_gate)
        {
            _markers = CreateMarkersAsync();
        }
    }

    public string Name => "redis";

    public IConnectionMultiplexer Multiplexer => _redis;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // no allocation per consume for the state machine
    public async ValueTask<ReplayStoreAnswer> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var markers = Volatile.Read(ref _markers);
        if (markers is not { IsCompletedSuccessfully: true })
        {
            await EnsureMarkersAsync(cancellationToken).ConfigureAwait(false);
        }

        var redisKey = (RedisKey)key.ToRedisKey(_prefix);
        var marker = _markerKeys[key.Group];
        var batch = _db.CreateBatch();
        var set = batch.StringSetAsync(redisKey, 1, new Expiration(retainUntil.UtcDateTime), ValueCondition.NotExists);
        var get = batch.StringGetAsync(marker);
        batch.Execute();
        // Replies come in order on one connection: the GET's completes after the SET's.
        var stamp = await get.WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
        var added = set.IsCompleted ? set.Result : await set.WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
        DateTimeOffset since;
        if (stamp.IsNull || !stamp.TryParse(out long sinceMs))
        {
            // The group's memory was lost (or its marker is not ours): date it now; tokens issued before are refused.
            // NX: when another guard re-created it first, ours is later than theirs, so this consume refuses more, never less.
            since = now;
            await _db.StringSetAsync(marker, now.ToUnixTimeMilliseconds(), when: When.NotExists)
                .WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            since = DateTimeOffset.FromUnixTimeMilliseconds(sinceMs);
        }
        if (added && _replicas > 0)
        {
            // WAIT blocks this connection until the replicas confirm; on a shared multiplexer give the guard its own.
            var server = _redis.GetServer((RedisKey)redisKey);
            var acked = (long)await server.ExecuteAsync("WAIT", _replicas, (long)_replicaTimeout.TotalMilliseconds)
                .WaitAsync(_replicaTimeout + _timeout, _time, cancellationToken).ConfigureAwait(false);
            if (acked < _replicas)
            {
                throw new RedisReplicationException($"Only {acked} of the {_replicas} required replica(s) acknowledged the consumed jti within {_replicaTimeout.TotalMilliseconds:0} ms; a failover could forget it.");
            }
        }

        return new ReplayStoreAnswer(added ? ReplayStoreResult.Added : ReplayStoreResult.Exists, since);
    }

    /// <summary>
    /// Creates the 64 group markers that do not exist yet, stamped with the current time, so that the first consume
    /// in a group does not date the group's memory later than the app's start. Run once per store, before the first
    /// consume; the constructor starts it (and the hosted warm-up awaits it at start-up when registered through DI).
    /// </summary>
    public Task EnsureMarkersAsync(CancellationToken cancellationToken)
    {
        Task current;
        lock (_gate)
        {
            if (_markers is null || _markers.IsFaulted || _markers.IsCanceled)
            {
                _markers = CreateMarkersAsync();
            }

            current = _markers;
        }

        return current.WaitAsync(_timeout, _time, cancellationToken);
    }

    private async Task CreateMarkersAsync()
    {
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding); // to the thread pool, never to the caller's context
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await Task.WhenAll(ReplayKey.AllRedisMarkers(_prefix).Select(m => _db.StringSetAsync(m, now, when: When.NotExists))).ConfigureAwait(false);
    }
}

/// <summary>Fewer replicas than required acknowledged a write (<see cref="TokenReplayGuardOptions.WaitForReplicas"/>).</summary>
internal sealed class RedisReplicationException(string message) : RedisException(message);
