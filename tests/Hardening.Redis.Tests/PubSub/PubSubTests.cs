using System.Collections.Concurrent;
using System.Text;

namespace Hardening.Redis.Tests.PubSub;

public sealed class PubSubTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static string Channel() => "ch:" + Guid.NewGuid().ToString("N");

    internal static async Task<T> WithinAsync<T>(Task<T> task, string what)
    {
        var done = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(done == task, what);
        return await task;
    }

    [Fact]
    public async Task Subscribe_receives_published_messages_in_order_and_dispose_unsubscribes()
    {
        await using var conn = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var channel = Channel();
        var received = new ConcurrentQueue<RedisMessage>();
        var gotAll = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await conn.SubscribeAsync(channel, m =>
        {
            received.Enqueue(m);
            if (received.Count == 50)
            {
                gotAll.TrySetResult(true);
            }
        });

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(1, await conn.PublishAsync(channel, "m" + i));
        }

        await WithinAsync(gotAll.Task, "did not receive 50 messages");
        Assert.Equal(Enumerable.Range(0, 50).Select(i => "m" + i), received.Select(m => Encoding.UTF8.GetString(m.Payload.Span)));
        Assert.All(received, m => Assert.Equal(channel, m.Channel));
        Assert.All(received, m => Assert.Null(m.Pattern));

        await subscription.DisposeAsync();
        Assert.Equal(0, await conn.PublishAsync(channel, "after"));
    }

    [Fact]
    public async Task Losing_only_the_subscriber_connection_is_reported_and_subscriptions_come_back()
    {
        // Its own server: CLIENT KILL TYPE pubsub would cut other tests' subscribers.
        await using var server = await RedisServer.StartAsync();
        await using var conn = await RedisConnection.ConnectAsync(server.ConnectionString);
        var channel = Channel();
        var states = new ConcurrentQueue<RedisConnectionState>();
        var back = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        conn.SubscriberStateChanged += (_, state) =>
        {
            states.Enqueue(state);
            if (state == RedisConnectionState.Connected && states.Contains(RedisConnectionState.Disconnected))
            {
                back.TrySetResult(true);
            }
        };
        var received = new ConcurrentQueue<string>();
        var got = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sub = await conn.SubscribeAsync(channel, m =>
        {
            received.Enqueue(Encoding.UTF8.GetString(m.Payload.Span));
            if (received.Contains("after"))
            {
                got.TrySetResult(true);
            }
        });

        await using var admin = await RedisConnection.ConnectAsync(server.ConnectionString);
        var killed = await admin.ExecuteAsync("CLIENT", ["KILL", "TYPE", "pubsub"]);
        Assert.Equal(1L, killed.AsInt64());
        await WithinAsync(back.Task, "SubscriberStateChanged did not report Disconnected then Connected");

        // Connected means resubscribed: a message published now is delivered (the interactive connection never dropped).
        Assert.Equal(RedisConnectionState.Connected, conn.State);
        Assert.Equal(1, await conn.PublishAsync(channel, "after"));
        await WithinAsync(got.Task, "no message after the subscriber came back");
        Assert.Equal(
            [RedisConnectionState.Connected, RedisConnectionState.Disconnected, RedisConnectionState.Connecting, RedisConnectionState.Connected],
            states);
    }

    [Fact]
    public async Task Pattern_subscribe_reports_the_pattern_and_the_channel()
    {
        await using var conn = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var prefix = Channel();
        var got = new TaskCompletionSource<RedisMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sub = await conn.PatternSubscribeAsync(prefix + ":*", m => got.TrySetResult(m));
        Assert.Equal(1, await conn.PublishAsync(prefix + ":a", new byte[] { 1, 2, 3 }));
        var message = await WithinAsync(got.Task, "no pattern message");
        Assert.Equal(prefix + ":*", message.Pattern);
        Assert.Equal(prefix + ":a", message.Channel);
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Payload.ToArray());
    }

    [Fact]
    public async Task Two_handlers_on_one_channel_share_one_server_subscription()
    {
        await using var conn = await RedisConnection.ConnectAsync(redis.ConnectionString);
        var channel = Channel();
        var a = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var b = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = await conn.SubscribeAsync(channel, _ => a.TrySetResult(true));
        var second = await conn.SubscribeAsync(channel, _ => throw new InvalidOperationException("handler bug"));
        var third = await conn.SubscribeAsync(channel, _ => b.TrySetResult(true));
        Assert.Equal(1, await conn.PublishAsync(channel, "x"));
        await WithinAsync(a.Task, "first handler");
        await WithinAsync(b.Task, "third handler despite a throwing handler before it");

        await first.DisposeAsync();
        await second.DisposeAsync();
        Assert.Equal(1, await conn.PublishAsync(channel, "still subscribed"));
        await third.DisposeAsync();
        Assert.Equal(0, await conn.PublishAsync(channel, "gone"));
    }
}
