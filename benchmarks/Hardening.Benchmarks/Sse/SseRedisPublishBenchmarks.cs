using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Hardening.Benchmarks.Tokens;
using Hardening.Sse;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hardening.Benchmarks.Sse;

/// <summary>
/// One publish on the Redis store (<see cref="SsePublisher.PublishAsync"/>: validation, the append script that assigns
/// the sequence, appends, trims and <c>SPUBLISH</c>es, and the reply parsing) against, on the same multiplexer and
/// server: the very same script through a raw <c>ScriptEvaluateAsync</c> (baseline: what the wrapper costs), and a
/// naive pipelined <c>INCR</c> + <c>XADD MAXLEN ~ *</c> + <c>SPUBLISH</c> batch (one round trip, not atomic: a reader
/// can hear of an event that is not in the log yet). At 1 and 50 concurrent callers, on one stream.
/// </summary>
[MemoryDiagnoser]
public class SseRedisPublishBenchmarks
{
    private const int OpsPerInvoke = 10_000;
    private const string Data = """{"applicationId":"4f1c2a9e","status":"submitted","at":"2026-01-01T00:00:00Z"}""";
    private static readonly SseOptions Defaults = new();
    private readonly StrongBox<long> _counter = new();
    private BenchRedis _redis = null!;
    private IDatabase _db = null!;
    private SsePublisher _publisher = null!;
    private string _script = null!;

    [Params(1, 50)]
    public int Callers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _redis = new BenchRedis();
        _db = _redis.Connection.GetDatabase();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConnectionMultiplexer>(_redis.Connection)
            .AddHardeningSse(o => { o.UseRedis = true; o.StoreTimeout = TimeSpan.FromSeconds(30); }).BuildServiceProvider(); // overload is not failure here
        _publisher = services.GetRequiredService<SsePublisher>();

        // The store's own script text (internal), so that the baseline runs exactly what the store runs.
        _script = (string)typeof(SsePublisher).Assembly.GetType("Hardening.Sse.RedisSseScripts", throwOnError: true)!
            .GetField("Append", BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;
    }

    [GlobalCleanup]
    public void Cleanup() => _redis.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerInvoke, Description = "same append script, raw ScriptEvaluateAsync (peer)")]
    public Task RawScript() => BenchRedis.RunAsync(OpsPerInvoke, Callers, async _ =>
    {
        var now = DateTimeOffset.UtcNow;
        await _db.ScriptEvaluateAsync(_script, ["bench:{raw}:meta", "bench:{raw}:log"],
        [
            "0123456789ab", "e", Data, now.ToUnixTimeMilliseconds(), Defaults.RetentionCount,
            (now - Defaults.RetentionAge).ToUnixTimeMilliseconds(), "bench:{raw}:n", (long)Defaults.IdleStreamExpiry.TotalMilliseconds,
        ]);
    }, _counter);

    [Benchmark(OperationsPerInvoke = OpsPerInvoke, Description = "naive INCR + XADD + SPUBLISH batch (not atomic)")]
    public Task NaiveBatch() => BenchRedis.RunAsync(OpsPerInvoke, Callers, async _ =>
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var batch = _db.CreateBatch();
        var seq = batch.StringIncrementAsync("bench:{naive}:seq");
        var add = batch.StreamAddAsync("bench:{naive}:log", [new("t", "e"), new("d", Data), new("ts", now)],
            maxLength: Defaults.RetentionCount, useApproximateMaxLength: true);
        var publish = batch.PublishAsync(RedisChannel.Sharded("bench:{naive}:n"), Data);
        batch.Execute();
        await Task.WhenAll(seq, add, publish);
    }, _counter);

    [Benchmark(OperationsPerInvoke = OpsPerInvoke, Description = "SsePublisher.PublishAsync on the Redis store")]
    public Task StorePublish() => BenchRedis.RunAsync(OpsPerInvoke, Callers, _ => _publisher.PublishAsync("bench", "e", Data), _counter);
}
