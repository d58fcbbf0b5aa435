using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hardening.Redis.Tests.Connection;

/// <summary>Faults on a dedicated redis-server that the test kills and restarts on the same port.</summary>
public sealed class FaultTests
{
    private static RedisConnectionOptions FastReconnect(string connectionString)
    {
        var options = RedisConnectionOptions.Parse(connectionString);
        options.ReconnectMinDelay = TimeSpan.FromMilliseconds(20);
        options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(300);
        return options;
    }

    private static async Task<T> EventuallyAsync<T>(Func<ValueTask<T>> attempt, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (RedisException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (RedisException ex)
            {
                throw new Xunit.Sdk.XunitException($"{what} did not succeed within 30 s: {ex.Message}");
            }
        }
    }

    [Fact]
    public async Task Killing_redis_fails_in_flight_commands_clearly_and_restart_brings_commands_and_subscriptions_back()
    {
        await using var server = await RedisServer.StartAsync();
        await using var conn = await RedisConnection.ConnectAsync(FastReconnect(server.ConnectionString));
        var states = new ConcurrentQueue<RedisConnectionState>();
        conn.StateChanged += (_, s) => states.Enqueue(s);

        var messages = new ConcurrentQueue<string>();
        await using var sub = await conn.SubscribeAsync("events", m => messages.Enqueue(Encoding.UTF8.GetString(m.Payload.Span)));
        Assert.Equal(1, await conn.PublishAsync("events", "before"));

        // Keep the server busy so that the commands below are certainly waiting for replies when it dies
        // (the script is loaded first so that EVALSHA starts running at once).
        await conn.EvaluateAsync(ConnectionTests.Sleep, [], [1L]);
        var busy = conn.EvaluateAsync(ConnectionTests.Sleep, [], [3000L]).AsTask();
        var inFlight = Enumerable.Range(0, 100).Select(i => conn.IncrementAsync("counter").AsTask()).ToArray();
        await Task.Delay(200);
        await server.StopAsync();

        foreach (var task in inFlight.Append<Task>(busy))
        {
            var ex = await Assert.ThrowsAsync<RedisConnectionException>(() => task);
            Assert.Contains("not resent", ex.Message, StringComparison.Ordinal);
        }

        // While the server is down, commands fail (fast, with the same exception type) instead of hanging.
        await Assert.ThrowsAsync<RedisConnectionException>(() => conn.GetAsync("k").AsTask());
        Assert.NotEqual(RedisConnectionState.Connected, conn.State);

        await server.RestartAsync();
        await EventuallyAsync(() => conn.PingAsync(), "PING after restart");
        Assert.True(await conn.SetAsync("after", "restart"));
        Assert.Equal("restart", Encoding.UTF8.GetString((await conn.GetAsync("after"))!));
        Assert.Equal(1, await conn.IncrementAsync("counter")); // nothing was resent: the new server saw no INCR

        // The subscriber reconnects on its own and resubscribes.
        await EventuallyAsync(async () => await conn.PublishAsync("events", "probe") == 1 ? true : throw new RedisConnectionException("not resubscribed yet"), "resubscribe");
        Assert.Equal(1, await conn.PublishAsync("events", "after"));
        for (var i = 0; i < 400 && !messages.Contains("after"); i++)
        {
            await Task.Delay(25);
        }

        Assert.Contains("before", messages);
        Assert.Contains("after", messages);
        Assert.Contains(RedisConnectionState.Disconnected, states);
        Assert.Equal(RedisConnectionState.Connected, states.Last());
        Assert.Equal(RedisConnectionState.Connected, conn.State);
    }

    [Fact]
    public async Task Commands_in_flight_on_a_killed_connection_are_never_resent()
    {
        await using var server = await RedisServer.StartAsync();
        await using var admin = await RedisConnection.ConnectAsync(server.ConnectionString);
        await using var conn = await RedisConnection.ConnectAsync(FastReconnect(server.ConnectionString));
        var clientId = (await conn.ExecuteAsync("CLIENT ID", [])).AsInt64();

        // Hold every write: the INCRs below reach the server but do not run.
        await admin.ExecuteAsync("CLIENT PAUSE", [10_000L, "WRITE"]);
        var inFlight = Enumerable.Range(0, 50).Select(_ => conn.IncrementAsync("never-resent")).ToArray();
        await Task.Delay(200);
        Assert.Equal(1, (await admin.ExecuteAsync("CLIENT KILL", ["ID", clientId])).AsInt64());

        foreach (var task in inFlight)
        {
            await Assert.ThrowsAsync<RedisConnectionException>(() => task.AsTask());
        }

        // The client reconnects; had it resent the INCRs, they would run as soon as writes resume.
        await EventuallyAsync(() => conn.PingAsync(), "PING after the kill");
        await admin.ExecuteAsync("CLIENT UNPAUSE", []);
        Assert.Null(await conn.GetAsync("never-resent"));
        Assert.Equal(1, await conn.IncrementAsync("never-resent"));
    }

    [Fact]
    public async Task Connection_created_while_redis_is_down_connects_once_it_is_up()
    {
        await using var server = await RedisServer.StartAsync();
        await server.StopAsync();
        var options = FastReconnect(server.ConnectionString);
        options.AbortConnect = false;
        await using var conn = await RedisConnection.ConnectAsync(options);
        await Assert.ThrowsAsync<RedisConnectionException>(() => conn.PingAsync().AsTask());
        await server.RestartAsync();
        await EventuallyAsync(() => conn.PingAsync(), "PING once the server is up");
    }

    [Fact]
    public async Task Malformed_reply_raises_protocol_exception_resets_the_connection_and_the_next_connection_works()
    {
        await using var fake = new FakeServer(
            "?this is not RESP\r\n",   // first connection: garbage
            "$-1\r\n");               // second connection: a valid null reply
        var options = FastReconnect($"127.0.0.1:{fake.Port}");
        await using var conn = await RedisConnection.ConnectAsync(options);
        var ex = await Assert.ThrowsAsync<RedisProtocolException>(() => conn.GetAsync("k").AsTask());
        Assert.Contains("0x3F", ex.Message, StringComparison.Ordinal);
        Assert.Null(await EventuallyAsync(() => conn.GetAsync("k"), "GET on the new connection"));
        Assert.Equal(2, fake.Connections);
    }

    [Fact]
    public async Task Truncated_reply_raises_protocol_exception()
    {
        await using var fake = new FakeServer("$10\r\nabc", "+OK\r\n");
        await using var conn = await RedisConnection.ConnectAsync(FastReconnect($"127.0.0.1:{fake.Port}"));
        var ex = await Assert.ThrowsAsync<RedisProtocolException>(() => conn.GetAsync("k").AsTask());
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reply_nobody_asked_for_is_a_protocol_error()
    {
        await using var fake = new FakeServer("+OK\r\n+OK\r\n", "-ERR second connection\r\n");
        await using var conn = await RedisConnection.ConnectAsync(FastReconnect($"127.0.0.1:{fake.Port}"));
        var first = conn.SetAsync("k", "v");
        var outcome = await Record.ExceptionAsync(() => first.AsTask());

        // The first SET may get its OK before the stray one is seen; the next command must never get the stray OK.
        Assert.True(outcome is null or RedisProtocolException, outcome?.ToString());
        // It fails on the reset connection, while reconnecting, or with the second connection's error; it never succeeds.
        var second = await Record.ExceptionAsync(() => conn.SetAsync("k", "v").AsTask());
        Assert.IsAssignableFrom<RedisException>(second);
    }
}
