using System.Collections.Concurrent;
using Hardening.Sse;
using Hardening.Sse.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Hardening.Sse.Tests.Redis;

/// <summary>
/// Only the subscriber connection drops (<c>CLIENT KILL TYPE pubsub</c>, a proxy's idle timeout): events published
/// meanwhile must still reach connected clients, without a later event and without a heartbeat poll. Each test has a
/// dedicated server, since killing every pub/sub client would disturb other tests.
/// </summary>
public sealed class SubscriberGapTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_listener_is_asked_to_catch_up_when_only_the_subscriber_connection_was_killed()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = await TestRedis.ConnectAsync(server.ConnectionString);
        var options = Options.Create(new SseOptions { UseRedis = true });
        await using var store = new RedisSseStore(options, TimeProvider.System, NullLoggerFactory.Instance, redis);
        RecordingListener a1 = new(), a2 = new(), b = new();
        await using var ra1 = await store.SubscribeAsync("a", a1, default);
        await using var ra2 = await store.SubscribeAsync("a", a2, default);
        await using var rb = await store.SubscribeAsync("b", b, default);

        Assert.Equal(1, (long)await KillPubSubAsync(redis));

        await Task.WhenAll(a1.CatchUp, a2.CatchUp, b.CatchUp).WaitAsync(Generous);
        Assert.All(new[] { a1, a2, b }, l => Assert.Equal(0, l.Unavailable)); // the sessions were not closed

        // And the subscription is live again.
        var e = await PublishUntilDeliveredAsync(store, a1, "a");
        await a2.WaitForEventAsync(e.Sequence).WaitAsync(Generous);
    }

    [Fact]
    public async Task After_a_subscriber_kill_an_event_published_right_away_reaches_the_connected_client_once_and_in_order()
    {
        const int Rounds = 40;
        await using var server = await RedisServer.StartAsync();
        await using var redis = await TestRedis.ConnectAsync(server.ConnectionString);
        var watch = new SubscriberWatch(redis);
        await using var host = await SseTestHost.StartOnRedisAsync(redis, time: new FakeTimeProvider()); // no heartbeat poll
        using var afterStore = new SubscriberWatch(redis); // told after the store's own handler ran
        var first = await host.Publisher.PublishAsync("s", "e", "before");
        await using var client = await host.ConnectAsync("s", $"{first.Epoch}-0");
        await client.WaitForCountAsync(1);

        // Shares the store's sharded subscription, so it sees exactly what the store's live path sees.
        var live = new LiveObserver();
        var subscriber = redis.GetSubscriber();
        await subscriber.SubscribeAsync(RedisChannel.Sharded("sse:{s}:n"), (_, m) => live.OnEvent(m));
        await subscriber.SubscribeAsync(RedisChannel.Sharded("sse:{s}:barrier"), (_, m) => live.OnBarrier(m));
        var expected = new List<string> { first.Id.ToString() };
        var missedLive = 0;

        for (var round = 0; round < Rounds; round++)
        {
            var reconnects = watch.Reconnects;
            var restored = afterStore.NextRestore();
            Assert.Equal(1, (long)await KillPubSubAsync(redis));

            // Where the event falls against the reconnection varies by round: right after the kill, a little later,
            // or right after the client reported the subscriber connection back (the subscription re-sent, maybe not
            // yet taken by the server, while the store's catch-up is already under way).
            switch (round % 4)
            {
                case 1: await Task.Yield(); break;
                case 2: await Task.Delay(2); break;
                case 3: await restored.WaitAsync(Generous); break;
            }

            var e = await host.Publisher.PublishAsync("s", "e", $"round {round}");
            expected.Add(e.Id.ToString());

            // Nothing else is published this round: if the live path missed the event, only the catch-up delivers it.
            await watch.WaitForReconnectsAsync(reconnects + 1, Generous);
            await client.WaitUntilAsync(i => i.Any(x => x.EventId == expected[^1]), Generous);
            if (!await live.SawAsync(subscriber, e.Sequence, round))
            {
                missedLive++;
            }
        }

        output.WriteLine($"Events published while the subscriber was down (missed by the live path): {missedLive} of {Rounds} rounds.");
        Assert.True(missedLive > 0, "No event was published while the subscriber was down: nothing was proved.");

        // Nothing was sent twice: a duplicate would come before this sentinel.
        var sentinel = await host.Publisher.PublishAsync("s", "e", "sentinel");
        expected.Add(sentinel.Id.ToString());
        var items = await client.WaitUntilAsync(i => i.Any(x => x.EventId == sentinel.Id.ToString()), Generous);
        Assert.Equal(expected, items.Select(i => i.EventId));
        Assert.False(client.Completion.IsCompleted); // the same connection throughout
        watch.Dispose();
    }

    private static async Task<RedisResult> KillPubSubAsync(IConnectionMultiplexer redis) =>
        await redis.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");

    private static async Task<SseEvent> PublishUntilDeliveredAsync(RedisSseStore store, RecordingListener listener, string stream)
    {
        using var deadline = new CancellationTokenSource(Generous);
        while (true)
        {
            var e = await store.AppendAsync(stream, "e", "after", null, default);
            try
            {
                await listener.WaitForEventAsync(e.Sequence).WaitAsync(TimeSpan.FromMilliseconds(500), deadline.Token);
                return e;
            }
            catch (TimeoutException)
            {
                // The sharded subscription is re-sent on reconnection; until then the event reaches readers by catch-up only.
            }
        }
    }

    private sealed class RecordingListener : ISseListener
    {
        private readonly TaskCompletionSource _catchUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<long, TaskCompletionSource> _events = new();
        private int _unavailable;

        public Task CatchUp => _catchUp.Task;

        public int Unavailable => Volatile.Read(ref _unavailable);

        public Task WaitForEventAsync(long sequence) => Event(sequence).Task;

        public void OnEvent(SseEvent sseEvent) => Event(sseEvent.Sequence).TrySetResult();

        public void OnCatchUpNeeded() => _catchUp.TrySetResult();

        public void OnStoreUnavailable() => Interlocked.Increment(ref _unavailable);

        private TaskCompletionSource Event(long sequence) =>
            _events.GetOrAdd(sequence, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>Counts the subscriber connection's comebacks (restored after failed).</summary>
    private sealed class SubscriberWatch : IDisposable
    {
        private readonly IConnectionMultiplexer _redis;
        private int _reconnects;

        public SubscriberWatch(IConnectionMultiplexer redis)
        {
            _redis = redis;
            redis.ConnectionRestored += OnRestored;
        }

        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Reconnects => Volatile.Read(ref _reconnects);

        /// <summary>Completes at the next comeback after this call.</summary>
        public Task NextRestore()
        {
            var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _next, next);
            return next.Task;
        }

        public async Task WaitForReconnectsAsync(int count, TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            while (Reconnects < count)
            {
                await Task.Delay(5, deadline.Token);
            }
        }

        public void Dispose() => _redis.ConnectionRestored -= OnRestored;

        private void OnRestored(object? sender, ConnectionFailedEventArgs e)
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                Interlocked.Increment(ref _reconnects);
                Volatile.Read(ref _next).TrySetResult();
            }
        }
    }

    /// <summary>A second handler on the stream's channel: records which events the live path received.</summary>
    private sealed class LiveObserver
    {
        private readonly ConcurrentDictionary<long, bool> _sequences = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _barriers = new();

        public void OnEvent(RedisValue message)
        {
            try
            {
                _sequences[RedisSseWire.ParseNotification("s", (byte[])message!).Sequence] = true;
            }
            catch (FormatException)
            {
                // A store's barrier (it checks that its subscription is live again), not an event.
            }
        }

        public void OnBarrier(RedisValue message) => Barrier(message!).TrySetResult();

        /// <summary>True when the live path got the event: a barrier published later arrives after it on the same connection.</summary>
        public async Task<bool> SawAsync(ISubscriber subscriber, long sequence, int round)
        {
            var id = round.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var deadline = new CancellationTokenSource(Generous);
            while (!Barrier(id).Task.IsCompleted)
            {
                await subscriber.PublishAsync(RedisChannel.Sharded("sse:{s}:barrier"), id);
                await Task.WhenAny(Barrier(id).Task, Task.Delay(200, deadline.Token));
            }

            return _sequences.ContainsKey(sequence);
        }

        private TaskCompletionSource Barrier(string id) =>
            _barriers.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
