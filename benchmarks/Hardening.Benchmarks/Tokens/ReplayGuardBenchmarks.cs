using System.Globalization;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Hardening.Auth;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hardening.Benchmarks.Tokens;

/// <summary>A clock that moves 1 ms per reading, so that consumed ids expire and the store stays in steady state.</summary>
internal sealed class TickingClock : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
}

/// <summary>
/// In-memory consume: our guard (SHA-256 key of (iss, jti), bounded segmented store) against the usual
/// MemoryCache "TryGetValue then Set" replay cache keyed by the token string (racy, allocates per entry).
/// </summary>
[MemoryDiagnoser]
public class InMemoryReplayGuardBenchmarks
{
    private const int Ids = 50_000;
    private string[] _jtis = null!;
    private TokenReplayGuard _guard = null!;
    private MemoryCache _cache = null!;
    private TickingClock _clock = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _jtis = Enumerable.Range(0, Ids).Select(i => Guid.NewGuid().ToString("N")).ToArray();
        _clock = new TickingClock();
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_clock)
            .AddHardeningTokenReplayGuard(o => { o.ClockSkew = TimeSpan.Zero; o.MaxInMemoryEntries = Ids * 2; })
            .BuildServiceProvider();
        _guard = services.GetRequiredService<TokenReplayGuard>();
        _cache = new MemoryCache(new MemoryCacheOptions { Clock = new SystemClockAdapter(_clock) });
    }

    [Benchmark(Baseline = true, Description = "MemoryCache check-then-set (peer)")]
    public bool MemoryCacheCheckThenSet()
    {
        var jti = _jtis[_next++ % Ids];
        if (_cache.TryGetValue(jti, out _))
        {
            return false;
        }

        _cache.Set(jti, true, _clock.GetUtcNow().AddMilliseconds(20));
        return true;
    }

    [Benchmark(Description = "TokenReplayGuard in-memory")]
    public bool GuardConsume()
    {
        var jti = _jtis[_next++ % Ids];
        var now = _clock.GetUtcNow();
        return _guard.TryConsumeAsync("https://issuer.example", jti, now, now.AddMilliseconds(20)).GetAwaiter().GetResult();
    }

#pragma warning disable CS0618 // ISystemClock is what MemoryCacheOptions.Clock takes
    private sealed class SystemClockAdapter(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
#pragma warning restore CS0618
}

/// <summary>
/// Redis consume against a raw <c>StringSetAsync(key, 1, expiry, When.NotExists)</c> on the same StackExchange.Redis
/// multiplexer and server (peer), at 1 and 50 concurrent callers. The guard's consume is one batch of two commands
/// (SET NX of the jti key, GET of its group marker), so one round trip like the peer. Two more peers say where the
/// cost is: the same batch raw with ready-made keys, and the one-script consume the guard used before.
/// </summary>
[MemoryDiagnoser]
public class RedisReplayGuardBenchmarks
{
    private const int OpsPerInvoke = 20_000;
    private readonly StrongBox<long> _counter = new();
    private BenchRedis _redis = null!;
    private IDatabase _db = null!;
    private TokenReplayGuard _guard = null!;

    [Params(1, 50)]
    public int Callers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _redis = new BenchRedis();
        _db = _redis.Connection.GetDatabase();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConnectionMultiplexer>(_redis.Connection)
            .AddHardeningTokenReplayGuard(o => { o.UseRedis = true; o.StoreTimeout = TimeSpan.FromSeconds(30); }).BuildServiceProvider(); // overload is not failure here
        _guard = services.GetRequiredService<TokenReplayGuard>();
    }

    [GlobalCleanup]
    public void Cleanup() => _redis.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerInvoke, Description = "raw StringSetAsync NX + expiry (peer)")]
    public Task RawSetNx() => BenchRedis.RunAsync(OpsPerInvoke, Callers, async i =>
        await _db.StringSetAsync("bench:raw:" + i.ToString(CultureInfo.InvariantCulture), 1, TimeSpan.FromSeconds(30), When.NotExists), _counter);

    [Benchmark(OperationsPerInvoke = OpsPerInvoke, Description = "SET NX + GET marker batch raw (peer: the guard's commands)")]
    public Task RawBatch() => BenchRedis.RunAsync(OpsPerInvoke, Callers, async i =>
    {
        var id = i.ToString(CultureInfo.InvariantCulture);
        var batch = _db.CreateBatch();
        var set = batch.StringSetAsync("bench:batch:{" + id[^1] + "}" + id, 1, new Expiration(DateTime.UtcNow.AddSeconds(30)), ValueCondition.NotExists);
        var get = batch.StringGetAsync("bench:batch:{" + id[^1] + "}:since");
        batch.Execute();
        await set;
        await get;
    }, _counter);

    // The guard's former script (the consume until 2026-12-06), called raw with ready-made keys: what the server costs
    // for the marker check next to SET NX, without the guard's C# (hashing, key strings, timeout, result mapping).
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

    [Benchmark(OperationsPerInvoke = OpsPerInvoke, Description = "same script raw (peer: server cost of the marker)")]
    public Task RawScript() => BenchRedis.RunAsync(OpsPerInvoke, Callers, async i =>
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = i.ToString(CultureInfo.InvariantCulture);
        await _db.ScriptEvaluateAsync(ConsumeScript, ["bench:script:{" + id[^1] + "}" + id, "bench:script:{" + id[^1] + "}:since"], [now + 30_000, now]);
    }, _counter);

    [Benchmark(OperationsPerInvoke = OpsPerInvoke, Description = "TokenReplayGuard Redis consume")]
    public Task GuardConsume() => BenchRedis.RunAsync(OpsPerInvoke, Callers, async i =>
    {
        var now = DateTimeOffset.UtcNow;
        await _guard.ConsumeAsync("https://issuer.example", i.ToString(CultureInfo.InvariantCulture), now, now.AddSeconds(30));
    }, _counter);
}
