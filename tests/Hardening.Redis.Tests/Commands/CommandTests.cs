using System.Text;

namespace Hardening.Redis.Tests.Commands;

public sealed class CommandTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private RedisConnection _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisConnection.ConnectAsync(redis.ConnectionString + ",name=command-tests");

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static string Key() => "test:" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Ping_answers_with_a_round_trip_time()
    {
        var rtt = await _redis.PingAsync();
        Assert.True(rtt > TimeSpan.Zero);
        Assert.Equal(RedisConnectionState.Connected, _redis.State);
    }

    [Fact]
    public async Task Get_of_a_missing_key_is_null_and_set_then_get_returns_the_value()
    {
        var key = Key();
        Assert.Null(await _redis.GetAsync(key));
        Assert.True(await _redis.SetAsync(key, "héllo"));
        Assert.Equal("héllo", Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
        Assert.True(await _redis.SetAsync(key, 42L));
        Assert.Equal("42", Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
        Assert.True(await _redis.SetAsync(key, new byte[] { 0, 13, 10, 255 }));
        Assert.Equal(new byte[] { 0, 13, 10, 255 }, await _redis.GetAsync(key));
        Assert.True(await _redis.SetAsync(key, Array.Empty<byte>()));
        Assert.Equal(Array.Empty<byte>(), await _redis.GetAsync(key));
    }

    [Fact]
    public async Task Set_not_exists_succeeds_once_and_exists_only_on_an_existing_key()
    {
        var key = Key();
        Assert.False(await _redis.SetAsync(key, "x", RedisSetCondition.Exists));
        Assert.True(await _redis.SetAsync(key, "a", RedisSetCondition.NotExists));
        Assert.False(await _redis.SetAsync(key, "b", RedisSetCondition.NotExists));
        Assert.Equal("a", Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
        Assert.True(await _redis.SetAsync(key, "c", RedisSetCondition.Exists));
        Assert.Equal("c", Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
    }

    [Fact]
    public async Task Set_with_px_and_pxat_sets_a_ttl_and_keepttl_keeps_it()
    {
        var key = Key();
        Assert.True(await _redis.SetAsync(key, "v", expiry: TimeSpan.FromSeconds(100)));
        var ttl = (await _redis.ExecuteAsync("PTTL", [key])).AsInt64();
        Assert.InRange(ttl, 1, 100_000);

        Assert.True(await _redis.SetAsync(key, "w", RedisSetCondition.Always, keepTtl: true));
        Assert.InRange((await _redis.ExecuteAsync("PTTL", [key])).AsInt64(), 1, 100_000);

        var at = DateTimeOffset.UtcNow.AddHours(1);
        Assert.True(await _redis.SetAsync(key, "v", expiresAt: at));
        Assert.Equal(at.ToUnixTimeMilliseconds(), (await _redis.ExecuteAsync("PEXPIRETIME", [key])).AsInt64());

        Assert.True(await _redis.SetAsync(key, "plain"));
        Assert.Equal(-1, (await _redis.ExecuteAsync("PTTL", [key])).AsInt64());
    }

    [Fact]
    public async Task Set_and_get_returns_the_previous_value()
    {
        var key = Key();
        Assert.Null(await _redis.SetAndGetAsync(key, "one"));
        Assert.Equal("one", Encoding.UTF8.GetString((await _redis.SetAndGetAsync(key, "two"))!));
        Assert.Equal("two", Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
    }

    [Fact]
    public async Task Short_ttl_expires_the_key()
    {
        var key = Key();
        Assert.True(await _redis.SetAsync(key, "v", expiry: TimeSpan.FromMilliseconds(50)));
        for (var i = 0; i < 100 && await _redis.GetAsync(key) is not null; i++)
        {
            await Task.Delay(20);
        }

        Assert.Null(await _redis.GetAsync(key));
    }

    [Fact]
    public async Task Delete_increment_and_expire()
    {
        var key = Key();
        Assert.Equal(0, await _redis.DeleteAsync(key));
        Assert.Equal(1, await _redis.IncrementAsync(key));
        Assert.Equal(11, await _redis.IncrementAsync(key, 10));
        Assert.Equal(-89, await _redis.IncrementAsync(key, -100));
        Assert.True(await _redis.ExpireAsync(key, TimeSpan.FromSeconds(30)));
        Assert.InRange((await _redis.ExecuteAsync("PTTL", [key])).AsInt64(), 1, 30_000);
        Assert.Equal(1, await _redis.DeleteAsync(key));
        Assert.False(await _redis.ExpireAsync(key, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Server_errors_surface_with_the_server_text()
    {
        var key = Key();
        await _redis.SetAsync(key, "not a number");
        var ex = await Assert.ThrowsAsync<RedisServerException>(() => _redis.IncrementAsync(key).AsTask());
        Assert.Contains("not an integer", ex.Message, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<RedisServerException>(() => _redis.ExecuteAsync("NOSUCHCOMMAND", []).AsTask());
        Assert.Contains("unknown command", unknown.Message, StringComparison.OrdinalIgnoreCase);

        // The connection is still usable afterwards.
        await _redis.PingAsync();
    }

    [Fact]
    public async Task Time_is_close_to_the_local_clock()
    {
        var time = await _redis.TimeAsync();
        Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Execute_returns_typed_values_for_any_command()
    {
        var key = Key();
        Assert.Equal(2, (await _redis.ExecuteAsync("RPUSH", [key, "a", 7L])).AsInt64());
        var list = await _redis.ExecuteAsync("LRANGE", [key, 0L, -1L]);
        Assert.Equal(RespType.Array, list.Type);
        Assert.Equal(["a", "7"], list.Items.Select(i => i.AsString()));
        Assert.Equal(RespType.SimpleString, (await _redis.ExecuteAsync("PING", [])).Type);
        Assert.True((await _redis.ExecuteAsync("GET", [Key()])).IsNull);
        Assert.Equal("OK", (await _redis.ExecuteAsync("CONFIG GET", ["maxmemory"])).Items.Count == 2 ? "OK" : "bad");
    }

    [Fact]
    public async Task Execute_rejects_commands_that_would_break_the_shared_connection()
    {
        foreach (var command in new[] { "SUBSCRIBE", "multi", "SELECT", "MONITOR" })
        {
            var ex = await Assert.ThrowsAsync<NotSupportedException>(() => _redis.ExecuteAsync(command, ["1"]).AsTask());
            Assert.Contains(command, ex.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Null_keys_and_values_are_rejected_at_the_call()
    {
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.GetAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.SetAsync(null!, "v").AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("value", () => _redis.SetAsync("k", (string)null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("value", () => _redis.SetAsync("k", default(RedisArg)).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.DeleteAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.IncrementAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.ExpireAsync(null!, TimeSpan.FromSeconds(1)).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.StreamAddAsync(null!, "*", [new("f", "v")]).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.StreamRangeAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => _redis.StreamReadAsync(null!, "0").AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("channel", () => _redis.PublishAsync(null!, "m").AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("keys", () => _redis.EvaluateAsync(new RedisScript("return 1"), [null!], []).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("args[1]", () => _redis.ExecuteAsync("SET", ["k", (string)null!]).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("expiry", () => _redis.SetAsync("k", "v", expiry: TimeSpan.Zero).AsTask());
        await Assert.ThrowsAsync<ArgumentException>("expiry", () => _redis.SetAsync("k", "v", expiry: TimeSpan.FromSeconds(1), expiresAt: DateTimeOffset.UtcNow.AddHours(1)).AsTask());

        // Nothing half-sent: the connection still pairs replies correctly.
        var key = Key();
        await _redis.SetAsync(key, "ok");
        Assert.Equal("ok", Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
    }

    [Fact]
    public async Task Large_values_round_trip()
    {
        var key = Key();
        var value = new byte[3 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(value);
        await _redis.SetAsync(key, value);
        Assert.Equal(value, await _redis.GetAsync(key));
        var text = new string('é', 100_000);
        await _redis.SetAsync(key, text);
        Assert.Equal(text, Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
        await _redis.DeleteAsync(key);
    }
}
