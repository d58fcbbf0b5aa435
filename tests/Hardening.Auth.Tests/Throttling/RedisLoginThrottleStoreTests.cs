using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Throttling;

/// <summary>The Redis throttle store, run against one redis-server and against the local cluster.</summary>
public abstract class RedisLoginThrottleStoreTests(IRedisTarget redis)
{
    private IConnectionMultiplexer _connection => redis.Multiplexer;

    private static RedisLoginThrottleStore Store(IConnectionMultiplexer connection, string prefix, bool useServerClock = true, Func<long>? testClock = null) =>
        new(connection, prefix, TimeSpan.FromSeconds(2), TimeProvider.System, useServerClock, testClock);

    [Property(MaxTest = 100)]
    public Property Redis_script_matches_the_reference_model_on_random_timelines() =>
        Prop.ForAll(LoginThrottleTests.LimitsGen.ToArbitrary(), LoginThrottleTests.TimelineGen(40).ToArbitrary(), (limits, timeline) =>
        {
            using var kit = new Tokens.AuthTestKit();

            // The script takes "now" from the test instead of Redis TIME, so the timeline is exact; start at the real
            // time so that Redis's own key expiry (PEXPIREAT) never fires before the logical expiry.
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var prefix = $"t:{Guid.NewGuid():N}:";
            var store = Store(_connection, prefix, useServerClock: false, testClock: () => now);
            var throttle = LoginThrottleTests.Create(kit, LoginThrottleTests.Options(limits, prefix), store);
            return LoginThrottleTests.MatchesReferenceAsync(throttle, () => now, ms => now += ms, limits, timeline).GetAwaiter().GetResult();
        });

    [Property(MaxTest = 100)]
    public Property Concurrent_attempts_cannot_exceed_the_threshold_on_redis() =>
        Prop.ForAll(Gen.Choose(1, 10).ToArbitrary(), Gen.Choose(2, 64).ToArbitrary(), (threshold, callers) =>
        {
            using var kit = new Tokens.AuthTestKit();
            var options = new LoginThrottleOptions { AccountAndIp = new() { Threshold = threshold }, Account = new() { Threshold = 0 }, Ip = new() { Threshold = 0 }, KeyPrefix = $"t:{Guid.NewGuid():N}:" };
            var throttle = LoginThrottleTests.Create(kit, options, Store(_connection, options.KeyPrefix));
            var results = Tokens.ConcurrentConsumers.RunAsync(callers, async () => (await throttle.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed).GetAwaiter().GetResult();
            return results.Count(r => r) == Math.Min(threshold, callers);
        });

    [Fact]
    public async Task With_the_server_clock_a_lockout_carries_retry_after_and_keys_expire()
    {
        using var kit = new Tokens.AuthTestKit();
        var prefix = $"t:{Guid.NewGuid():N}:";
        var options = new LoginThrottleOptions
        {
            AccountAndIp = new() { Threshold = 2, Window = TimeSpan.FromMinutes(1), Lockout = TimeSpan.FromMinutes(1), MaxLockout = TimeSpan.FromMinutes(10) },
            Account = new() { Threshold = 0 },
            Ip = new() { Threshold = 0 },
            KeyPrefix = prefix,
        };
        var throttle = LoginThrottleTests.Create(kit, options, Store(_connection, prefix));
        Assert.True((await throttle.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed);
        Assert.True((await throttle.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed);
        var refused = await throttle.AcquireAsync("alice", IPAddress.Loopback);
        Assert.False(refused.IsAllowed);
        Assert.Equal(60, refused.RetryAfterSeconds);

        var keys = new List<string>();
        foreach (var server in _connection.GetServers().Where(s => !s.IsReplica))
        {
            await foreach (var k in server.KeysAsync(pattern: "{" + prefix + "}*"))
            {
                keys.Add(k!);
            }
        }

        var key = Assert.Single(keys);
        Assert.StartsWith("{" + prefix + "}", key, StringComparison.Ordinal); // one hash tag: atomic on a cluster
        Assert.DoesNotContain("alice", key, StringComparison.OrdinalIgnoreCase);
        var ttl = (long)(await _connection.GetDatabase().KeyTimeToLiveAsync(key))!.Value.TotalMilliseconds;
        Assert.InRange(ttl, 1, (long)TimeSpan.FromMinutes(11).TotalMilliseconds);

        await throttle.ResetAsync("alice", IPAddress.Loopback);
        Assert.True((await throttle.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed);
    }
}

public sealed class RedisLoginThrottleStoreOnOneServerTests(RedisFixture redis) : RedisLoginThrottleStoreTests(redis), IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Redis_down_refuses_login_attempts_and_recovers_after_restart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        using var kit = new Tokens.AuthTestKit();
        var throttle = LoginThrottleTests.Create(kit, new LoginThrottleOptions(), new RedisLoginThrottleStore(connection, "hardening:login:", TimeSpan.FromSeconds(1), TimeProvider.System));
        Assert.True((await throttle.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed);

        await server.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            var decision = await throttle.AcquireAsync("alice", IPAddress.Loopback);
            Assert.False(decision.IsAllowed);
            Assert.Equal(LoginThrottleScope.StoreUnavailable, decision.Scope);
        }

        Assert.Equal(5, kit.Logs.Events("ThrottleStoreUnavailable").Count);

        await server.RestartAsync();
        var recovered = false;
        for (var attempt = 0; attempt < 200 && !recovered; attempt++)
        {
            recovered = (await throttle.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed;
            if (!recovered)
            {
                await Task.Delay(50);
            }
        }

        Assert.True(recovered, "the throttle did not work again within 10 s of the restart");
    }
}

public sealed class RedisLoginThrottleStoreOnClusterTests(RedisClusterFixture redis) : RedisLoginThrottleStoreTests(redis), IClassFixture<RedisClusterFixture>;
