using System.Text;

namespace Hardening.Redis.Tests.Connection;

public sealed class ConnectionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    /// <summary>Keeps the server busy for ARGV[1] ms (DEBUG SLEEP is disabled by default).</summary>
    internal static readonly RedisScript Sleep = new(
        "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] " +
        "while true do local n = redis.call('TIME') if n[1] * 1000000 + n[2] - s >= tonumber(ARGV[1]) * 1000 then return 1 end end");

    [Fact]
    public async Task Handshake_selects_the_database_and_sets_the_client_name()
    {
        await using var db3 = await RedisConnection.ConnectAsync(redis.ConnectionString + ",defaultDatabase=3,name=handshake-test");
        await using var db0 = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var key = "hs:" + Guid.NewGuid().ToString("N");
        await db3.SetAsync(key, "in-3");
        Assert.Null(await db0.GetAsync(key));
        Assert.Equal("in-3", Encoding.UTF8.GetString((await db3.GetAsync(key))!));
        var clients = (await db0.ExecuteAsync("CLIENT LIST", [])).AsString()!;
        Assert.Contains("name=handshake-test", clients, StringComparison.Ordinal);
        Assert.Contains("db=3", clients.Split('\n').First(l => l.Contains("name=handshake-test", StringComparison.Ordinal)), StringComparison.Ordinal);
        await db3.DeleteAsync(key);
    }

    [Fact]
    public async Task Acl_user_and_password_authenticate_and_a_wrong_password_is_a_clear_error()
    {
        await using var server = await RedisServer.StartAsync();
        await using (var admin = await RedisConnection.ConnectAsync(server.ConnectionString))
        {
            await admin.ExecuteAsync("ACL SETUSER", ["app", "on", ">app-pass", "~*", "+@all"]);
            await admin.ExecuteAsync("CONFIG SET", ["requirepass", "default-pass"]);
        }

        await using (var app = await RedisConnection.ConnectAsync(server.ConnectionString + ",user=app,password=app-pass"))
        {
            Assert.Equal("app", (await app.ExecuteAsync("ACL WHOAMI", [])).AsString());
        }

        await using (var def = await RedisConnection.ConnectAsync(server.ConnectionString + ",password=default-pass"))
        {
            Assert.Equal("default", (await def.ExecuteAsync("ACL WHOAMI", [])).AsString());
        }

        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(server.ConnectionString + ",user=app,password=wrong-pass"));
        Assert.Contains("AUTH", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", ex.Message, StringComparison.Ordinal);

        var noAuth = await RedisConnection.ConnectAsync(server.ConnectionString);
        await using (noAuth)
        {
            var denied = await Assert.ThrowsAsync<RedisServerException>(() => noAuth.GetAsync("k").AsTask());
            Assert.Contains("NOAUTH", denied.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Connect_to_a_closed_port_fails_with_a_connection_exception_naming_the_endpoint()
    {
        var port = FreePort.Next();
        var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync($"127.0.0.1:{port},connectTimeout=2000"));
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Abort_connect_false_returns_a_disconnected_connection_whose_commands_fail_fast()
    {
        var port = FreePort.Next();
        await using var conn = await RedisConnection.ConnectAsync($"127.0.0.1:{port},abortConnect=false,connectTimeout=2000");
        Assert.NotEqual(RedisConnectionState.Connected, conn.State);
        await Assert.ThrowsAsync<RedisConnectionException>(() => conn.GetAsync("k").AsTask());
        var health = await conn.CheckHealthAsync();
        Assert.False(health.IsHealthy);
        Assert.NotNull(health.Error);
    }

    [Fact]
    public async Task Second_endpoint_is_used_when_the_first_is_down()
    {
        var dead = FreePort.Next();
        await using var conn = await RedisConnection.ConnectAsync($"127.0.0.1:{dead},{redis.ConnectionString}");
        await conn.PingAsync();
    }

    [Fact]
    public async Task Disposed_connection_throws_object_disposed()
    {
        var conn = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var states = new List<RedisConnectionState>();
        conn.StateChanged += (_, s) => states.Add(s);
        await conn.DisposeAsync();
        Assert.Equal(RedisConnectionState.Disposed, conn.State);
        Assert.Equal([RedisConnectionState.Disposed], states);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => conn.GetAsync("k").AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => conn.SubscribeAsync("c", _ => { }));
    }

    [Fact]
    public async Task Health_check_reports_a_round_trip()
    {
        await using var conn = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var health = await conn.CheckHealthAsync();
        Assert.True(health.IsHealthy);
        Assert.Equal(RedisConnectionState.Connected, health.State);
        Assert.NotNull(health.RoundTrip);
    }

    [Fact]
    public async Task Many_concurrent_callers_each_get_their_own_reply()
    {
        await using var conn = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var prefix = "mc:" + Guid.NewGuid().ToString("N") + ":";
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => conn.SetAsync(prefix + i, "value-" + i).AsTask()));
        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(async i => (i, v: await conn.GetAsync(prefix + i))));
        foreach (var (i, v) in results)
        {
            Assert.Equal("value-" + i, Encoding.UTF8.GetString(v!));
        }
    }

    [Fact]
    public async Task Cancelled_command_does_not_shift_later_replies()
    {
        await using var conn = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var key = "cx:" + Guid.NewGuid().ToString("N");
        await conn.SetAsync(key, "mine");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => conn.EvaluateAsync(Sleep, [], [500L], cts.Token).AsTask());
        Assert.Equal("mine", Encoding.UTF8.GetString((await conn.GetAsync(key))!));
    }

    [Fact]
    public async Task Command_timeout_raises_redis_timeout_and_the_connection_recovers()
    {
        await using var server = await RedisServer.StartAsync();
        await using var conn = await RedisConnection.ConnectAsync(server.ConnectionString + ",syncTimeout=200");
        var ex = await Assert.ThrowsAsync<RedisTimeoutException>(() => conn.EvaluateAsync(Sleep, [], [1000L]).AsTask());
        Assert.Contains("syncTimeout", ex.Message, StringComparison.Ordinal);

        // The late reply to DEBUG SLEEP is discarded, not handed to the next caller.
        var key = "to:" + Guid.NewGuid().ToString("N");
        for (var i = 0; ; i++)
        {
            try
            {
                await conn.SetAsync(key, "after");
                break;
            }
            catch (RedisTimeoutException) when (i < 20)
            {
            }
        }

        Assert.Equal("after", Encoding.UTF8.GetString((await conn.GetAsync(key))!));
    }
}
