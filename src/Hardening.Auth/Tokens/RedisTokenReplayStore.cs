using StackExchange.Redis;

namespace Hardening.Auth;

/// <summary>
/// The replay store on the app's <see cref="IConnectionMultiplexer"/>: one script call per consume (one round trip,
/// <c>EVALSHA</c> after the first; StackExchange.Redis reloads the script on <c>NOSCRIPT</c>). The script touches the jti
/// key and its group's marker, which share a hash tag, so it runs on a cluster. The marker records since when the group
/// has been remembered: a group whose marker vanished (restart without persistence, FLUSHALL, eviction, a failover to
/// a replica that had not received it) gets a new one, and tokens issued before it are refused by the guard.
/// </summary>
internal sealed class RedisTokenReplayStore : ITokenReplayStore
{
    // KEYS[1] = jti key, KEYS[2] = the group's marker. ARGV[1] = keep until (unix ms), ARGV[2] = now (unix ms).
    private const string ConsumeScript = """
        local since = redis.call('GET', KEYS[2])
        if not since then
          since = ARGV[2]
          redis.call('SET', KEYS[2], since)
        end
        local added = 0
        if redis.call('SET', KEYS[1], '1', 'NX', 'PXAT', ARGV[1]) then added = 1 end
        return { added, tonumber(since) }
        """;

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

    public async ValueTask<ReplayStoreAnswer> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var markers = Volatile.Read(ref _markers);
        if (markers is not { IsCompletedSuccessfully: true })
        {
            await EnsureMarkersAsync(cancellationToken).ConfigureAwait(false);
        }

        var redisKey = key.ToRedisKey(_prefix);
        var pending = _db.ScriptEvaluateAsync(
            ConsumeScript,
            [redisKey, _markerKeys[key.Group]],
            [retainUntil.ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds()]);
        var reply = (RedisResult[])(await pending.WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false))!;
        var added = (long)reply[0] == 1;
        var since = DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1]);
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
        await Task.Yield();
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await Task.WhenAll(ReplayKey.AllRedisMarkers(_prefix).Select(m => _db.StringSetAsync(m, now, when: When.NotExists))).ConfigureAwait(false);
    }
}

/// <summary>Fewer replicas than required acknowledged a write (<see cref="TokenReplayGuardOptions.WaitForReplicas"/>).</summary>
internal sealed class RedisReplicationException(string message) : RedisException(message);
