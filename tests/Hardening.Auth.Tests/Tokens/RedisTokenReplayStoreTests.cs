using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>The Redis replay store's behaviour, run against one redis-server and against the local cluster.</summary>
public abstract class RedisTokenReplayStoreTests(IRedisTarget redis)
{
    protected IRedisTarget Redis => redis;

    private static TokenReplayGuard Guard(AuthTestKit kit, IConnectionMultiplexer connection, string prefix, TimeSpan? skew = null, Action<TokenReplayGuardOptions>? adjust = null, TimeProvider? time = null)
    {
        var options = new TokenReplayGuardOptions { UseRedis = true, ClockSkew = skew ?? TimeSpan.FromMinutes(5), KeyPrefix = prefix };
        adjust?.Invoke(options);
        time ??= TimeProvider.System;
        return new TokenReplayGuard(new RedisTokenReplayStore(connection, options, time), options, time, kit.Metrics, kit.Logger<TokenReplayGuard>());
    }

    private static string NewPrefix() => $"test:{Guid.NewGuid():N}:";

    [Property(MaxTest = 100)]
    public bool Consume_is_exactly_once_under_concurrency_on_redis(PositiveInt seed)
    {
        using var kit = new AuthTestKit();
        var guard = Guard(kit, redis.Multiplexer, NewPrefix());
        var consumers = 2 + (seed.Get % 63);
        var jti = Guid.NewGuid().ToString();
        var exp = DateTimeOffset.UtcNow.AddSeconds(30);
        var results = ConcurrentConsumers.RunAsync(consumers, () => guard.TryConsumeAsync("https://issuer", jti, exp)).GetAwaiter().GetResult();
        return results.Count(r => r) == 1;
    }

    [Fact]
    public async Task Concurrent_consumers_on_separate_app_instances_accept_a_jti_exactly_once()
    {
        // Each "instance" has its own multiplexer, as separate processes would.
        var multiplexers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => TestRedis.ConnectAsync(redis.ConnectionString)));
        try
        {
            using var kit = new AuthTestKit();
            var prefix = NewPrefix();
            var guards = multiplexers.Select(m => Guard(kit, m, prefix)).ToArray();
            for (var round = 0; round < 100; round++)
            {
                var jti = Guid.NewGuid().ToString();
                var exp = DateTimeOffset.UtcNow.AddMinutes(1);
                var i = 0;
                var results = await ConcurrentConsumers.RunAsync(16, () => guards[Interlocked.Increment(ref i) % guards.Length].TryConsumeAsync("iss", jti, exp));
                Assert.Equal(1, results.Count(r => r));
            }
        }
        finally
        {
            foreach (var m in multiplexers)
            {
                await m.DisposeAsync();
            }
        }
    }

    [Property(MaxTest = 100)]
    public bool A_jti_is_held_by_redis_exactly_until_exp_plus_skew(PositiveInt lifetime, NonNegativeInt skewSeconds)
    {
        using var kit = new AuthTestKit();
        var prefix = NewPrefix();
        var skew = TimeSpan.FromSeconds(skewSeconds.Get % 601);
        var guard = Guard(kit, redis.Multiplexer, prefix, skew);
        var jti = Guid.NewGuid().ToString();
        var exp = DateTimeOffset.UtcNow.AddSeconds(1 + (lifetime.Get % 3600));
        var key = ReplayKey.Compute("iss", jti).ToRedisKey(prefix);
        var consumed = guard.TryConsumeAsync("iss", jti, exp).AsTask().GetAwaiter().GetResult();
        var replayed = guard.TryConsumeAsync("iss", jti, exp).AsTask().GetAwaiter().GetResult();

        // Redis deletes the key at PEXPIRETIME: refused until exactly exp + skew, free after.
        var pxat = (long)redis.Multiplexer.GetDatabase().Execute("PEXPIRETIME", key);
        return consumed && !replayed && pxat == (exp + skew).ToUnixTimeMilliseconds();
    }

    [Fact]
    public async Task A_jti_is_accepted_again_once_redis_has_expired_it()
    {
        using var kit = new AuthTestKit();
        var skew = TimeSpan.FromMilliseconds(200);
        var prefix = NewPrefix();
        var guard = Guard(kit, redis.Multiplexer, prefix, skew);
        var exp = DateTimeOffset.UtcNow.AddSeconds(1);
        var key = ReplayKey.Compute("iss", "short").ToRedisKey(prefix);
        Assert.True(await guard.TryConsumeAsync("iss", "short", exp));
        Assert.False(await guard.TryConsumeAsync("iss", "short", exp));
        var db = redis.Multiplexer.GetDatabase();
        for (var i = 0; i < 200 && await db.KeyExistsAsync(key); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(DateTimeOffset.UtcNow >= exp + skew, "Redis dropped the key before exp + skew");
        Assert.True(await guard.TryConsumeAsync("iss", "short", DateTimeOffset.UtcNow.AddSeconds(5)));
    }

    [Fact]
    public async Task The_key_layout_is_fixed_so_an_upgrade_keeps_every_consumed_jti()
    {
        // Known answer, computed independently with Python's hashlib:
        //   d = b"hardening.auth.jti.v1\0" + len(b"iss").to_bytes(4,"big") + b"iss" + len(b"the-jti").to_bytes(4,"big") + b"the-jti"
        //   base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=")
        const string Encoded = "fGy1oX5gqPb07LN07MX85l-Xb31VOvzEbPMsC9-63Eo";
        using var kit = new AuthTestKit();
        var prefix = NewPrefix();
        var guard = Guard(kit, redis.Multiplexer, prefix);
        Assert.True(await guard.TryConsumeAsync("iss", "the-jti", DateTimeOffset.UtcNow.AddMinutes(1)));
        var expected = prefix + "{" + Encoded[0] + "}" + Encoded;
        Assert.Equal(expected, ReplayKey.Compute("iss", "the-jti").ToRedisKey(prefix));
        Assert.True(await redis.Multiplexer.GetDatabase().KeyExistsAsync(expected));
        Assert.True(await redis.Multiplexer.GetDatabase().KeyExistsAsync(prefix + "{" + Encoded[0] + "}:since"));
    }

    [Fact]
    public async Task Scripts_survive_script_flush()
    {
        using var kit = new AuthTestKit();
        var guard = Guard(kit, redis.Multiplexer, NewPrefix());
        var exp = DateTimeOffset.UtcNow.AddMinutes(1);
        Assert.True(await guard.TryConsumeAsync("iss", "before-flush", exp));
        foreach (var server in redis.Multiplexer.GetServers())
        {
            await server.ScriptFlushAsync();
        }

        Assert.True(await guard.TryConsumeAsync("iss", "after-flush", exp));
        Assert.False(await guard.TryConsumeAsync("iss", "before-flush", exp));
    }

    public enum Loss
    {
        FlushAll,
        MarkerEvicted,
    }

    [Theory]
    [InlineData(Loss.FlushAll)]
    [InlineData(Loss.MarkerEvicted)]
    public async Task After_redis_forgets_tokens_issued_before_are_refused_and_later_ones_work(Loss loss)
    {
        // FLUSHALL would wipe the keys of tests running in parallel on the shared server: flush a dedicated one.
        await using var ownServer = loss == Loss.FlushAll && !redis.IsCluster ? await RedisServer.StartAsync() : null;
        await using var ownCluster = loss == Loss.FlushAll && redis.IsCluster ? await RedisCluster.StartAsync() : null;
        await using var own = ownServer is not null || ownCluster is not null
            ? await TestRedis.ConnectAsync(ownServer?.ConnectionString ?? ownCluster!.ConnectionString)
            : null;
        var multiplexer = (IConnectionMultiplexer?)own ?? redis.Multiplexer;
        using var kit = new AuthTestKit();
        var prefix = NewPrefix();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var guard = Guard(kit, multiplexer, prefix, time: time);
        var issuedBefore = time.GetUtcNow();
        var exp = issuedBefore.AddHours(1);
        var jtis = Enumerable.Range(0, 64).Select(i => $"jti-{i}").ToArray();
        time.Advance(TimeSpan.FromSeconds(1));
        foreach (var jti in jtis)
        {
            // Issued after the store's markers were laid: accepted once.
            Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", jti, time.GetUtcNow(), exp));
        }

        var db = multiplexer.GetDatabase();
        if (loss == Loss.FlushAll)
        {
            foreach (var server in multiplexer.GetServers().Where(s => !s.IsReplica))
            {
                await server.FlushAllDatabasesAsync();
            }
        }
        else
        {
            // What an eviction policy that drops keys could do: the jtis and the markers of their groups are gone.
            foreach (var jti in jtis)
            {
                var key = ReplayKey.Compute("iss", jti);
                await db.KeyDeleteAsync([key.ToRedisKey(prefix), key.ToRedisMarker(prefix)]);
            }
        }

        time.Advance(TimeSpan.FromSeconds(1));
        var issuedAfter = time.GetUtcNow();
        foreach (var jti in jtis)
        {
            // The captured token comes back: the store cannot say it was used, so it is refused.
            Assert.Equal(TokenConsumeResult.IssuedBeforeStoreLoss, await guard.ConsumeAsync("iss", jti, issuedBefore.AddSeconds(1), exp));
        }

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "fresh", issuedAfter.AddSeconds(1), exp));
        Assert.Equal(TokenConsumeResult.Replayed, await guard.ConsumeAsync("iss", "fresh", issuedAfter.AddSeconds(1), exp));
        Assert.Equal(jtis.Length, kit.Logs.Events("TokenIssuedBeforeStoreLoss").Count);
    }
}

public sealed class RedisTokenReplayStoreOnOneServerTests(RedisFixture redis) : RedisTokenReplayStoreTests(redis), IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Redis_down_denies_every_consume_with_a_security_event_and_recovers_after_restart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        using var kit = new AuthTestKit();
        var options = new TokenReplayGuardOptions { UseRedis = true, KeyPrefix = "fault:" };
        var guard = new TokenReplayGuard(new RedisTokenReplayStore(connection, options, TimeProvider.System), options, TimeProvider.System, kit.Metrics, kit.Logger<TokenReplayGuard>());
        var exp = DateTimeOffset.UtcNow.AddMinutes(1);
        Assert.True(await guard.TryConsumeAsync("iss", "before-outage", exp));

        await server.StopAsync();
        var denials = 0;
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(TokenConsumeResult.StoreUnavailable, await guard.ConsumeAsync("iss", $"during-outage-{i}", DateTimeOffset.UtcNow, exp));
            Assert.Equal(TokenConsumeResult.StoreUnavailable, await guard.ConsumeAsync("iss", "before-outage", DateTimeOffset.UtcNow, exp)); // no replay slips through
            denials += 2;
        }

        var events = kit.Logs.Events("ReplayStoreUnavailable");
        Assert.Equal(denials, events.Count);
        Assert.All(events, e => Assert.NotNull(e.Exception));
        Assert.Equal(denials, kit.Metric("hardening.auth.replay.store_errors").Sum());
        Assert.Equal(denials, kit.Metric("hardening.auth.token.rejected").Sum("reason", "store_unavailable"));

        // Restarted without persistence: the store forgot "before-outage", so that token must not work again.
        await server.RestartAsync();
        TokenConsumeResult result = default;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            result = await guard.ConsumeAsync("iss", $"after-restart-{attempt}", DateTimeOffset.UtcNow, exp);
            if (result == TokenConsumeResult.Consumed)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(TokenConsumeResult.Consumed, result);
        Assert.NotEqual(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "before-outage", exp.AddMinutes(-2), exp));
    }

    [Fact]
    public async Task A_silent_redis_is_refused_within_the_store_timeout_and_late_replies_reach_no_other_caller()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString, o => o.AsyncTimeout = o.SyncTimeout = 30_000);
        using var kit = new AuthTestKit();
        var options = new TokenReplayGuardOptions { UseRedis = true, KeyPrefix = "silent:", StoreTimeout = TimeSpan.FromMilliseconds(300) };
        var guard = new TokenReplayGuard(new RedisTokenReplayStore(connection, options, TimeProvider.System), options, TimeProvider.System, kit.Metrics, kit.Logger<TokenReplayGuard>());
        var exp = DateTimeOffset.UtcNow.AddMinutes(5);
        Assert.True(await guard.TryConsumeAsync("iss", "warm", exp));

        // SIGSTOP: the socket stays open and nothing answers (the multiplexer's own timeout is 30 s here).
        await Signal(server, "-STOP");

        var silent = Enumerable.Range(0, 20).Select(i => guard.ConsumeAsync("iss", $"silent-{i}", DateTimeOffset.UtcNow, exp).AsTask()).ToArray();
        var results = await Task.WhenAll(silent);
        Assert.All(results, r => Assert.Equal(TokenConsumeResult.StoreUnavailable, r));

        await Signal(server, "-CONT");

        // The timed-out scripts still ran on the server; their late replies must not answer these calls.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", $"fresh-{i}", DateTimeOffset.UtcNow, exp));
            Assert.Equal(TokenConsumeResult.Replayed, await guard.ConsumeAsync("iss", $"fresh-{i}", DateTimeOffset.UtcNow, exp));
            Assert.Equal(TokenConsumeResult.Replayed, await guard.ConsumeAsync("iss", $"silent-{i}", DateTimeOffset.UtcNow, exp)); // refused, never accepted later
        }
    }

    private static async Task Signal(RedisServer server, string signal)
    {
        var result = await ProcessRunner.RunAsync("kill", [signal, server.ProcessId!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(0, result.ExitCode);
    }
}

public sealed class RedisTokenReplayStoreOnClusterTests(RedisClusterFixture redis) : RedisTokenReplayStoreTests(redis), IClassFixture<RedisClusterFixture>
{
    // A killed master with and without replica acknowledgement: ReplayGuardFailoverTests.

    [Fact]
    public async Task A_moved_slot_loses_no_consumed_jti()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(cluster.ConnectionString);
        using var kit = new AuthTestKit();
        var options = new TokenReplayGuardOptions { UseRedis = true, KeyPrefix = "moved:" };
        var guard = new TokenReplayGuard(new RedisTokenReplayStore(connection, options, TimeProvider.System), options, TimeProvider.System, kit.Metrics, kit.Logger<TokenReplayGuard>());
        var exp = DateTimeOffset.UtcNow.AddMinutes(10);
        var jtis = Enumerable.Range(0, 200).Select(i => $"m-{i}").ToArray();
        foreach (var jti in jtis)
        {
            Assert.True(await guard.TryConsumeAsync("iss", jti, exp));
        }

        // Move the slot of the first jti (and everything in it) to another master with redis-cli --cluster reshard.
        var key = ReplayKey.Compute("iss", jtis[0]).ToRedisKey("moved:");
        var source = await cluster.MasterOfAsync(key);
        var target = cluster.Nodes.Take(3).First(n => n != source);
        var slot = await RedisCluster.CliAsync(cluster.Nodes[0], "CLUSTER", "KEYSLOT", key);
        var sourceId = await RedisCluster.CliAsync(source, "CLUSTER", "MYID");
        var targetId = await RedisCluster.CliAsync(target, "CLUSTER", "MYID");
        await RedisCluster.CliAsync(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
        await RedisCluster.CliAsync(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
        var moving = Task.Run(async () =>
        {
            while (true)
            {
                var keys = (await RedisCluster.CliAsync(source, "CLUSTER", "GETKEYSINSLOT", slot, "10")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (keys.Length == 0)
                {
                    break;
                }

                foreach (var k in keys)
                {
                    await RedisCluster.CliAsync(source, "MIGRATE", target.Host, target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), k, "0", "5000");
                }
            }

            foreach (var node in cluster.Nodes.Take(3))
            {
                await RedisCluster.CliAsync(node, "CLUSTER", "SETSLOT", slot, "NODE", targetId);
            }
        });

        // Replays during and after the move (ASK and MOVED redirects) are all refused; new ids are accepted once.
        var results = new List<bool>();
        while (!moving.IsCompleted)
        {
            results.AddRange(await Task.WhenAll(jtis.Take(20).Select(j => guard.TryConsumeAsync("iss", j, exp).AsTask())));
        }

        await moving;
        foreach (var jti in jtis)
        {
            results.Add(await guard.TryConsumeAsync("iss", jti, exp));
        }

        Assert.DoesNotContain(true, results);
        Assert.Equal(targetId, (await RedisCluster.CliAsync(target, "CLUSTER", "MYID")));
        Assert.Same(target, await cluster.MasterOfAsync(key));
        Assert.True(await guard.TryConsumeAsync("iss", "new-after-move", exp));
    }
}
