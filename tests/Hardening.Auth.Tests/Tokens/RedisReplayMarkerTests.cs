using System.Globalization;
using Hardening.Auth;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// The Redis store's group markers (when they are laid, what they hold, what a foreign or missing one means) and
/// <see cref="TokenReplayGuardOptions.WaitForReplicas"/> against a server without replicas. Times come from a fake
/// clock, so every marker value is known exactly.
/// </summary>
public sealed class RedisReplayMarkerTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    // Near the real time: Redis expires keys by its own clock (SET ... PXAT).
    private readonly DateTimeOffset _start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    private static (TokenReplayGuard Guard, RedisTokenReplayStore Store) Guard(AuthTestKit kit, IConnectionMultiplexer connection, string prefix, Action<TokenReplayGuardOptions>? adjust = null)
    {
        var options = new TokenReplayGuardOptions { UseRedis = true, KeyPrefix = prefix };
        adjust?.Invoke(options);
        var store = new RedisTokenReplayStore(connection, options, kit.Time);
        return (new TokenReplayGuard(store, options, kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>()), store);
    }

    private static string NewPrefix() => $"marker:{Guid.NewGuid():N}:";

    private async Task<RedisValue[]> MarkersAsync(string prefix) =>
        await Task.WhenAll(ReplayKey.AllRedisMarkers(prefix).Select(m => redis.Multiplexer.GetDatabase().StringGetAsync(m)));

    [Fact]
    public async Task The_store_lays_all_64_markers_when_it_is_built_dated_by_its_clock()
    {
        using var kit = new AuthTestKit(_start);
        var prefix = NewPrefix();
        var (guard, store) = Guard(kit, redis.Multiplexer, prefix);
        Assert.Equal("redis", store.Name);
        Assert.Same(redis.Multiplexer, store.Multiplexer);

        // Laid by the constructor, without any consume or EnsureMarkersAsync call.
        var markers = await MarkersAsync(prefix);
        for (var i = 0; i < 200 && markers.Any(m => m.IsNull); i++)
        {
            await Task.Delay(25);
            markers = await MarkersAsync(prefix);
        }

        Assert.Equal(64, markers.Length);
        Assert.All(markers, m => Assert.Equal(_start.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), m.ToString()));

        // So a token issued in the second the store started is accepted even after the clock moved on.
        kit.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "early", _start, _start.AddHours(1)));
        Assert.Equal(TokenConsumeResult.IssuedBeforeStoreLoss, await guard.ConsumeAsync("iss", "earlier", _start.AddSeconds(-1), _start.AddHours(1)));
    }

    [Fact]
    public async Task Markers_that_exist_are_not_redated_by_a_second_store()
    {
        using var kit = new AuthTestKit(_start);
        var prefix = NewPrefix();
        var (_, first) = Guard(kit, redis.Multiplexer, prefix);
        await first.EnsureMarkersAsync(CancellationToken.None);
        kit.Time.Advance(TimeSpan.FromMinutes(5));
        var (second, store) = Guard(kit, redis.Multiplexer, prefix);
        await store.EnsureMarkersAsync(CancellationToken.None);
        Assert.All(await MarkersAsync(prefix), m => Assert.Equal(_start.ToUnixTimeMilliseconds(), (long)m));
        Assert.Equal(TokenConsumeResult.Consumed, await second.ConsumeAsync("iss", "j", _start.AddSeconds(1), _start.AddHours(1)));
    }

    [Fact]
    public async Task A_lost_marker_is_laid_again_at_the_first_consume_and_dates_the_group_from_then()
    {
        using var kit = new AuthTestKit(_start);
        var prefix = NewPrefix();
        var (guard, store) = Guard(kit, redis.Multiplexer, prefix);
        await store.EnsureMarkersAsync(CancellationToken.None);
        var marker = ReplayKey.Compute("iss", "a").ToRedisMarker(prefix);
        await redis.Multiplexer.GetDatabase().KeyDeleteAsync(marker);

        kit.Time.Advance(TimeSpan.FromSeconds(10));
        var lost = kit.Time.GetUtcNow();
        Assert.Equal(TokenConsumeResult.IssuedBeforeStoreLoss, await guard.ConsumeAsync("iss", "a", _start.AddSeconds(1), _start.AddHours(1)));
        Assert.Equal(lost.ToUnixTimeMilliseconds(), (long)await redis.Multiplexer.GetDatabase().StringGetAsync(marker));

        // Later consumes in the group read the new date instead of dating the group again.
        kit.Time.Advance(TimeSpan.FromSeconds(10));
        var sameGroup = Enumerable.Range(0, 10_000).Select(i => $"b{i}").First(j => ReplayKey.Compute("iss", j).Group == ReplayKey.Compute("iss", "a").Group);
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", sameGroup, lost.AddSeconds(5), _start.AddHours(1)));
    }

    [Theory]
    [InlineData("not-a-number")]
    [InlineData("")]
    public async Task A_marker_that_is_not_ours_counts_as_lost(string foreign)
    {
        using var kit = new AuthTestKit(_start);
        var prefix = NewPrefix();
        var (guard, store) = Guard(kit, redis.Multiplexer, prefix);
        await store.EnsureMarkersAsync(CancellationToken.None);
        var marker = ReplayKey.Compute("iss", "f").ToRedisMarker(prefix);
        await redis.Multiplexer.GetDatabase().StringSetAsync(marker, foreign);
        kit.Time.Advance(TimeSpan.FromSeconds(10));

        // Refused: the store cannot say since when it remembers this group (the foreign value is left as it is).
        Assert.Equal(TokenConsumeResult.IssuedBeforeStoreLoss, await guard.ConsumeAsync("iss", "f", _start.AddSeconds(1), _start.AddHours(1)));
        Assert.Equal(foreign, (string?)await redis.Multiplexer.GetDatabase().StringGetAsync(marker));
    }

    [Fact]
    public async Task Markers_that_failed_while_redis_was_down_are_laid_once_it_is_back()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        using var kit = new AuthTestKit(DateTimeOffset.UtcNow);
        await server.StopAsync();
        var (guard, store) = Guard(kit, connection, "down:", o => o.StoreTimeout = TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<Exception>(() => store.EnsureMarkersAsync(CancellationToken.None));
        Assert.Equal(TokenConsumeResult.StoreUnavailable, await guard.ConsumeAsync("iss", "during", kit.Time.GetUtcNow(), kit.Time.GetUtcNow().AddHours(1)));

        await server.RestartAsync();
        var result = TokenConsumeResult.StoreUnavailable;
        for (var attempt = 0; attempt < 200 && result == TokenConsumeResult.StoreUnavailable; attempt++)
        {
            result = await guard.ConsumeAsync("iss", "after", kit.Time.GetUtcNow(), kit.Time.GetUtcNow().AddHours(1));
            if (result == TokenConsumeResult.StoreUnavailable)
            {
                await Task.Delay(50);
            }
        }

        Assert.Equal(TokenConsumeResult.Consumed, result);
        var db = connection.GetDatabase();
        Assert.All(ReplayKey.AllRedisMarkers("down:"), m => Assert.True(db.KeyExists(m), m));
    }

    [Fact]
    public async Task Cancelling_the_wait_for_the_markers_cancels_the_consume()
    {
        using var kit = new AuthTestKit(_start);
        var (guard, _) = Guard(kit, redis.Multiplexer, NewPrefix());
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await guard.ConsumeAsync("iss", "c", _start, _start.AddHours(1), cts.Token));
    }

    [Fact]
    public async Task Without_replicas_a_consume_that_needs_one_is_refused_and_says_so()
    {
        using var kit = new AuthTestKit(_start);
        var prefix = NewPrefix();
        var (guard, store) = Guard(kit, redis.Multiplexer, prefix, o => { o.WaitForReplicas = 1; o.ReplicaWaitTimeout = TimeSpan.FromMilliseconds(100); });
        await store.EnsureMarkersAsync(CancellationToken.None);
        Assert.Equal(TokenConsumeResult.StoreUnavailable, await guard.ConsumeAsync("iss", "w", _start.AddSeconds(1), _start.AddHours(1)));
        var ev = Assert.Single(kit.Logs.Events("ReplayStoreUnavailable"));
        Assert.IsType<RedisReplicationException>(ev.Exception);
        Assert.Equal("Only 0 of the 1 required replica(s) acknowledged the consumed jti within 100 ms; a failover could forget it.", ev.Exception!.Message);

        // The id was written before the WAIT: a retry is a replay, never a second acceptance, and needs no WAIT.
        Assert.Equal(TokenConsumeResult.Replayed, await guard.ConsumeAsync("iss", "w", _start.AddSeconds(1), _start.AddHours(1)));
        Assert.Single(kit.Logs.Events("ReplayStoreUnavailable"));
    }

    [Fact]
    public async Task With_a_replica_that_acknowledges_the_consume_is_accepted_and_the_id_is_on_the_replica()
    {
        await using var master = await RedisServer.StartAsync();
        await using var replica = await RedisServer.StartAsync(["--replicaof", master.Host, master.Port.ToString(CultureInfo.InvariantCulture)]);
        await using var connection = await TestRedis.ConnectAsync(master.ConnectionString);
        await using var onReplica = await TestRedis.ConnectAsync(replica.ConnectionString);
        for (var i = 0; i < 400 && !(await onReplica.GetServers()[0].InfoRawAsync("replication") ?? "").Contains("master_link_status:up", StringComparison.Ordinal); i++)
        {
            await Task.Delay(25);
        }

        using var kit = new AuthTestKit(_start);
        var prefix = NewPrefix();
        var (guard, store) = Guard(kit, connection, prefix, o => { o.WaitForReplicas = 1; o.ReplicaWaitTimeout = TimeSpan.FromSeconds(5); });
        await store.EnsureMarkersAsync(CancellationToken.None);
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "r", _start.AddSeconds(1), _start.AddHours(1)));
        Assert.Empty(kit.Logs.Events("ReplayStoreUnavailable"));

        // WAIT returned 1: the replica holds the consumed id now, not eventually.
        var key = ReplayKey.Compute("iss", "r").ToRedisKey(prefix);
        Assert.True(await onReplica.GetDatabase().KeyExistsAsync(key, CommandFlags.DemandReplica), key);
        Assert.Equal(TokenConsumeResult.Replayed, await guard.ConsumeAsync("iss", "r", _start.AddSeconds(1), _start.AddHours(1)));
    }
}
