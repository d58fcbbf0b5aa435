using System.Globalization;
using StackExchange.Redis;

namespace Hardening.Auth;

/// <summary>
/// One atomic Lua script per decision, clocked by Redis <c>TIME</c> so that app servers with drifting clocks agree.
/// Mirrors <see cref="ThrottleRecord"/>; each key is a hash (c = count, w = window end, l = locked until,
/// v = level, e = expires at) that Redis also expires at <c>e</c>. Every key carries the hash tag <c>{prefix}</c>, so the
/// keys of one decision share a cluster slot and the script stays atomic on a cluster (logins are bound by password
/// hashing, so one shard carries them easily).
/// </summary>
internal sealed class RedisLoginThrottleStore(IConnectionMultiplexer redis, string keyPrefix, TimeSpan timeout, TimeProvider time, bool useServerClock = true, Func<long>? testClock = null) : ILoginThrottleStore
{
    private readonly IDatabase _db = redis.GetDatabase();

    internal const string AcquireScript = """
        local now
        if ARGV[1] ~= '' then
          now = tonumber(ARGV[1])
        else
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local st = {}
        local retry, scope = 0, -1
        for i = 1, #KEYS do
          local b = 1 + (i - 1) * 4
          if tonumber(ARGV[b + 1]) > 0 then
            local v = redis.call('HMGET', KEYS[i], 'c', 'w', 'l', 'v', 'e')
            local r = { tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0 }
            if v[5] and now >= tonumber(v[5]) then r = { 0, 0, 0, 0 } end
            st[i] = r
            if now < r[3] and r[3] - now > retry then retry = r[3] - now; scope = i - 1 end
          end
        end
        if scope >= 0 then return { 0, retry, scope, 0, 0 } end
        local mask, lockms = 0, 0
        for i = 1, #KEYS do
          local r = st[i]
          if r then
            local b = 1 + (i - 1) * 4
            local thr, win, lock, cap = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
            local c, w, l, lv = r[1], r[2], r[3], r[4]
            if now >= w then c = 0; w = now + win end
            c = c + 1
            if c >= thr then
              local d = lock
              local k = 0
              while k < lv and d < cap do d = d * 2; k = k + 1 end
              if d > cap then d = cap end
              l = now + d; lv = lv + 1; c = 0; w = now
              mask = mask + 2 ^ (i - 1)
              if d > lockms then lockms = d end
            end
            local e = math.max(w, l) + cap
            redis.call('HSET', KEYS[i], 'c', c, 'w', string.format('%.0f', w), 'l', string.format('%.0f', l), 'v', lv, 'e', string.format('%.0f', e))
            redis.call('PEXPIREAT', KEYS[i], string.format('%.0f', e))
          end
        end
        return { 1, 0, -1, mask, lockms }
        """;

    public string Name => "redis";

    public async ValueTask<ThrottleOutcome> AcquireAsync(ThrottleRule[] rules, CancellationToken cancellationToken)
    {
        var keys = new RedisKey[rules.Length];
        var args = new RedisValue[1 + (rules.Length * 4)];
        args[0] = useServerClock ? "" : testClock!().ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < rules.Length; i++)
        {
            keys[i] = Tagged(rules[i].Key);
            args[1 + (i * 4)] = rules[i].Threshold;
            args[2 + (i * 4)] = rules[i].WindowMs;
            args[3 + (i * 4)] = rules[i].LockoutMs;
            args[4 + (i * 4)] = rules[i].MaxLockoutMs;
        }

        var reply = await _db.ScriptEvaluateAsync(AcquireScript, keys, args).WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        var items = (RedisResult[])reply!;
        return new ThrottleOutcome((long)items[0] == 1, (long)items[1], (int)items[2], (int)items[3], (long)items[4]);
    }

    public async ValueTask ResetAsync(string[] keys, CancellationToken cancellationToken)
    {
        var tagged = new RedisKey[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            tagged[i] = Tagged(keys[i]);
        }

        await _db.KeyDeleteAsync(tagged).WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>{prefix}rest</c>: the whole throttle key space in one hash slot.</summary>
    internal RedisKey Tagged(string key) => string.Concat("{", keyPrefix, "}", key.AsSpan(keyPrefix.Length));
}
