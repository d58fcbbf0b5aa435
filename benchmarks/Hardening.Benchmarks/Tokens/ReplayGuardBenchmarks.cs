using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
/// multiplexer and server (peer), at 1 and 50 concurrent callers. The guard's consume is one script call (the jti key
/// and its group marker), so one round trip like the peer.
/// </summary>
[MemoryDiagnoser]
public class RedisReplayGuardBenchmarks
{
    private const int OpsPerInvoke = 20_000;
    private Process? _server;
    private ConnectionMultiplexer _connection = null!;
    private IDatabase _db = null!;
    private TokenReplayGuard _guard = null!;
    private string _endpoint = null!;
    private long _counter;

    [Params(1, 50)]
    public int Callers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _endpoint = Environment.GetEnvironmentVariable("HARDENING_BENCH_REDIS") ?? StartServer();
        var options = ConfigurationOptions.Parse(_endpoint);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        _connection = ConnectionMultiplexer.Connect(options);
        _db = _connection.GetDatabase();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConnectionMultiplexer>(_connection)
            .AddHardeningTokenReplayGuard(o => o.UseRedis = true).BuildServiceProvider();
        _guard = services.GetRequiredService<TokenReplayGuard>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        _server?.Kill();
        _server?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerInvoke, Description = "raw StringSetAsync NX + expiry (peer)")]
    public Task RawSetNx() => RunAsync(async i =>
        await _db.StringSetAsync("bench:raw:" + i.ToString(CultureInfo.InvariantCulture), 1, TimeSpan.FromSeconds(30), When.NotExists));

    [Benchmark(OperationsPerInvoke = OpsPerInvoke, Description = "TokenReplayGuard Redis consume")]
    public Task GuardConsume() => RunAsync(async i =>
    {
        var now = DateTimeOffset.UtcNow;
        await _guard.ConsumeAsync("https://issuer.example", i.ToString(CultureInfo.InvariantCulture), now, now.AddSeconds(30));
    });

    private Task RunAsync(Func<long, Task> op)
    {
        var perCaller = OpsPerInvoke / Callers;
        return Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            for (var k = 0; k < perCaller; k++)
            {
                await op(Interlocked.Increment(ref _counter));
            }
        })));
    }

    private string StartServer()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        _server = Process.Start(new ProcessStartInfo("redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no") { RedirectStandardOutput = true })!;
        _server.BeginOutputReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var c = new TcpClient("127.0.0.1", port);
                return $"127.0.0.1:{port}";
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException("redis-server did not start");
    }
}
