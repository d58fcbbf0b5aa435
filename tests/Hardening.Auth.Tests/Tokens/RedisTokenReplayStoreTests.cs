using FsCheck;
using FsCheck.Fluent;
using Hardening.Auth.Tokens;
using Hardening.Redis;

namespace Hardening.Auth.Tests.Tokens;

public sealed class RedisTokenReplayStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private RedisConnection _connection = null!;

    public async Task InitializeAsync() => _connection = await RedisConnection.ConnectAsync(redis.ConnectionString);

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    private static TokenReplayGuard RedisGuard(AuthTestKit kit, RedisConnection connection, TimeSpan skew, string prefix) =>
        new(new RedisTokenReplayStore(connection, prefix), new TokenReplayGuardOptions { ClockSkew = skew, KeyPrefix = prefix }, TimeProvider.System, kit.Metrics, kit.Logger<TokenReplayGuard>());

    [Fact]
    public void Consume_is_exactly_once_under_concurrency_on_redis()
    {
        using var kit = new AuthTestKit();
        var guard = RedisGuard(kit, _connection, TimeSpan.FromSeconds(5), $"test:{Guid.NewGuid():N}:");
        Prop.ForAll(Gen.Choose(2, 64).ToArbitrary(), consumers =>
        {
            var jti = Guid.NewGuid().ToString();
            var exp = DateTimeOffset.UtcNow.AddSeconds(30);
            var results = ConcurrentConsumers.RunAsync(consumers, () => guard.TryConsumeAsync("https://issuer", jti, exp)).GetAwaiter().GetResult();
            return results.Count(r => r) == 1;
        }).Check(PropertyConfig.Create(100));
    }

    [Fact]
    public void A_jti_is_held_by_redis_exactly_until_exp_plus_skew()
    {
        using var kit = new AuthTestKit();
        var prefix = $"test:{Guid.NewGuid():N}:";
        Prop.ForAll(Gen.Choose(1, 3600).ToArbitrary(), Gen.Choose(0, 600).ToArbitrary(), (lifetimeSeconds, skewSeconds) =>
        {
            var skew = TimeSpan.FromSeconds(skewSeconds);
            var guard = RedisGuard(kit, _connection, skew, prefix);
            var jti = Guid.NewGuid().ToString();
            var exp = DateTimeOffset.UtcNow.AddSeconds(lifetimeSeconds);
            var key = ReplayKey.Compute("iss", jti).ToRedisKey(prefix);
            var consumed = guard.TryConsumeAsync("iss", jti, exp).AsTask().GetAwaiter().GetResult();
            var replayed = guard.TryConsumeAsync("iss", jti, exp).AsTask().GetAwaiter().GetResult();

            // Redis deletes the key at PEXPIRETIME: refused until exactly exp + skew, free after.
            var pxat = _connection.ExecuteAsync("PEXPIRETIME", [key]).AsTask().GetAwaiter().GetResult().AsInt64();
            return consumed && !replayed && pxat == (exp + skew).ToUnixTimeMilliseconds();
        }).Check(PropertyConfig.Create(100));
    }

    [Fact]
    public async Task A_jti_is_accepted_again_once_redis_has_expired_it()
    {
        using var kit = new AuthTestKit();
        var skew = TimeSpan.FromMilliseconds(200);
        var prefix = $"test:{Guid.NewGuid():N}:";
        var guard = RedisGuard(kit, _connection, skew, prefix);
        var exp = DateTimeOffset.UtcNow.AddSeconds(1);
        var key = ReplayKey.Compute("iss", "short").ToRedisKey(prefix);
        Assert.True(await guard.TryConsumeAsync("iss", "short", exp));
        Assert.False(await guard.TryConsumeAsync("iss", "short", exp));

        for (var i = 0; i < 200 && await _connection.GetAsync(key) is not null; i++)
        {
            await Task.Delay(20);
        }

        Assert.True(DateTimeOffset.UtcNow >= exp + skew, "Redis dropped the key before exp + skew");
        Assert.True(await guard.TryConsumeAsync("iss", "short", DateTimeOffset.UtcNow.AddSeconds(5)));
    }

    [Fact]
    public async Task Consume_is_one_round_trip_set_nx_pxat_under_a_hashed_key()
    {
        using var kit = new AuthTestKit();
        var prefix = $"test:{Guid.NewGuid():N}:";
        var guard = RedisGuard(kit, _connection, TimeSpan.FromMinutes(5), prefix);
        var exp = DateTimeOffset.UtcNow.AddMinutes(1);
        Assert.True(await guard.TryConsumeAsync("iss", "the-jti", exp));
        var keys = (await _connection.ExecuteAsync("KEYS", [prefix + "*"])).Items;
        var key = Assert.Single(keys).AsString()!;
        Assert.Equal(prefix.Length + 43, key.Length);
        Assert.DoesNotContain("the-jti", key, StringComparison.Ordinal);
        Assert.Equal((exp + TimeSpan.FromMinutes(5)).ToUnixTimeMilliseconds(), (await _connection.ExecuteAsync("PEXPIRETIME", [key])).AsInt64());
    }

    [Fact]
    public async Task Redis_down_denies_every_consume_with_a_security_event_and_recovers_after_restart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await RedisConnection.ConnectAsync(server.ConnectionString + ",connectTimeout=500,syncTimeout=1000");
        using var kit = new AuthTestKit();
        var guard = RedisGuard(kit, connection, TimeSpan.FromMinutes(5), "fault:");
        var exp = DateTimeOffset.UtcNow.AddMinutes(1);
        Assert.True(await guard.TryConsumeAsync("iss", "before-outage", exp));

        await server.StopAsync();
        var denials = 0;
        for (var i = 0; i < 10; i++)
        {
            Assert.False(await guard.TryConsumeAsync("iss", $"during-outage-{i}", exp));
            Assert.False(await guard.TryConsumeAsync("iss", "before-outage", exp)); // no replay slips through
            denials += 2;
        }

        var events = kit.Logs.Events("ReplayStoreUnavailable");
        Assert.Equal(denials, events.Count);
        Assert.All(events, e => Assert.IsAssignableFrom<RedisException>(e.Exception));
        Assert.Equal(denials, kit.Recorder.Sum("hardening.auth.replay.store_errors"));
        Assert.Equal(denials, kit.Recorder.Sum("hardening.auth.token.rejected", "reason", "store_unavailable"));

        await server.RestartAsync();
        var recovered = false;
        for (var attempt = 0; attempt < 200 && !recovered; attempt++)
        {
            recovered = await guard.TryConsumeAsync("iss", $"after-restart-{attempt}", exp);
            if (!recovered)
            {
                await Task.Delay(50);
            }
        }

        Assert.True(recovered, "the guard did not work again within 10 s of the restart");
        Assert.False(await guard.TryConsumeAsync("iss", "after-restart-0", exp) && await guard.TryConsumeAsync("iss", "after-restart-0", exp));
    }
}
