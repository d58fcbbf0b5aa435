using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Hardening.Redis;
using Hardening.Sse.Storage;
using Hardening.Sse.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Hardening.Sse.Tests.Redis;

/// <summary>
/// Only the subscriber connection drops (<c>CLIENT KILL TYPE pubsub</c>, a proxy's idle timeout): events published
/// meanwhile must still reach connected clients, without a later event and without a heartbeat poll. Each test has a
/// dedicated server, since killing every pub/sub client or changing the default user's ACL would disturb other tests.
/// </summary>
public sealed class SubscriberGapTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_listener_is_asked_to_catch_up_when_only_the_subscriber_connection_was_killed()
    {
        await using var server = await RedisServer.StartAsync();
        var redis = RedisConnection.Create(FastReconnect(server), NullLoggerFactory.Instance);
        var options = Options.Create(new SseOptions { RedisConnectionString = server.ConnectionString });
        await using var store = new RedisSseStore(options, TimeProvider.System, NullLoggerFactory.Instance, redis);
        RecordingListener a1 = new(), a2 = new(), b = new();
        await using var ra1 = await store.SubscribeAsync("a", a1, default);
        await using var ra2 = await store.SubscribeAsync("a", a2, default);
        await using var rb = await store.SubscribeAsync("b", b, default);
        await using var admin = await RedisConnection.ConnectAsync(server.ConnectionString);

        var killed = await admin.ExecuteAsync("CLIENT", ["KILL", "TYPE", "pubsub"]);
        Assert.Equal(1, killed.AsInt64());

        await Task.WhenAll(a1.CatchUp, a2.CatchUp, b.CatchUp).WaitAsync(Generous);
        Assert.All(new[] { a1, a2, b }, l => Assert.Equal(0, l.Unavailable)); // the sessions were not closed

        // And the subscription is live again.
        var e = await store.AppendAsync("a", "e", "after", default);
        await a1.WaitForEventAsync(e.Sequence).WaitAsync(Generous);
        await a2.WaitForEventAsync(e.Sequence).WaitAsync(Generous);
    }

    [Fact]
    public async Task Events_published_while_the_subscriber_is_down_reach_a_connected_client_once_and_in_order()
    {
        await using var server = await RedisServer.StartAsync();
        await using var scene = await Scene.StartAsync(server);
        var (host, redis, watch, client, first) = (scene.Host, scene.Redis, scene.Watch, scene.Client, scene.First);
        await using var admin = await RedisConnection.ConnectAsync(server.ConnectionString);

        // Hold the gap open: the default user may still PUBLISH to the stream's channel (the append script does), but
        // PSUBSCRIBE of the store's pattern is refused, so the killed subscriber cannot come back until it is allowed.
        // Redis also drops pub/sub clients whose subscriptions the new ACL forbids, so the kill may find none left.
        await admin.ExecuteAsync("ACL", ["SETUSER", "default", "resetchannels", "&sse:n:s"]);
        await admin.ExecuteAsync("CLIENT", ["KILL", "TYPE", "pubsub"]);
        await WaitForPatternCountAsync(admin, 0);

        var during = new List<SseEvent>();
        for (var i = 0; i < 5; i++)
        {
            during.Add(await host.Publisher.PublishAsync("s", "e", $"during {i}"));
        }

        // No pattern subscriber existed on the server at any point of those publishes.
        Assert.Equal(0, await PatternCountAsync(admin));
        Assert.Equal(0, watch.Reconnects);

        await admin.ExecuteAsync("ACL", ["SETUSER", "default", "allchannels"]);
        var expected = new[] { first }.Concat(during).Select(e => e.Id.ToString()).ToList();
        var items = await client.WaitForCountAsync(expected.Count, Generous);
        Assert.Equal(expected, items.Select(i => i.EventId));
        Assert.True(watch.Reconnects >= 1);

        // Nothing is sent twice: a duplicate would come before this sentinel.
        var sentinel = await host.Publisher.PublishAsync("s", "e", "sentinel");
        expected.Add(sentinel.Id.ToString());
        items = await client.WaitUntilAsync(i => i.Any(x => x.EventId == sentinel.Id.ToString()), Generous);
        Assert.Equal(expected, items.Select(i => i.EventId));
        Assert.False(client.Completion.IsCompleted); // the same connection throughout
    }

    [Fact]
    public async Task After_a_plain_client_kill_an_event_published_right_away_reaches_the_connected_client()
    {
        const int Rounds = 20;
        await using var server = await RedisServer.StartAsync();
        await using var scene = await Scene.StartAsync(server);
        var (host, redis, watch, client, first) = (scene.Host, scene.Redis, scene.Watch, scene.Client, scene.First);

        // Shares the store's pattern subscription, so it sees exactly what the store's live path sees.
        var live = new LiveObserver();
        await using var observer = await redis.PatternSubscribeAsync("sse:n:*", live.OnMessage);
        await using var admin = await RedisConnection.ConnectAsync(server.ConnectionString);
        var expected = new List<string> { first.Id.ToString() };
        var missedLive = new int[2];

        for (var round = 0; round < Rounds; round++)
        {
            var reconnects = watch.Reconnects;
            var pipelined = round % 2 == 1;
            SseEvent e;
            if (pipelined)
            {
                // The kill goes out on the publisher's own connection just ahead of the append script: Redis runs
                // them in this order, before the killed subscriber can possibly have reconnected.
                var kill = redis.ExecuteAsync("CLIENT", ["KILL", "TYPE", "pubsub"]);
                var publish = host.Publisher.PublishAsync("s", "e", $"round {round}");
                Assert.Equal(1, (await kill).AsInt64());
                e = await publish;
            }
            else
            {
                // Someone else kills it; we publish as soon as that returns (races the reconnect).
                Assert.Equal(1, (await admin.ExecuteAsync("CLIENT", ["KILL", "TYPE", "pubsub"])).AsInt64());
                e = await host.Publisher.PublishAsync("s", "e", $"round {round}");
            }

            expected.Add(e.Id.ToString());

            // Nothing else is published this round: if the live path missed the event, only the catch-up delivers it.
            await watch.WaitForReconnectsAsync(reconnects + 1, Generous);
            await client.WaitUntilAsync(i => i.Any(x => x.EventId == expected[^1]), Generous);
            if (!await live.SawAsync(admin, e.Sequence, round))
            {
                missedLive[round % 2]++;
            }
        }

        output.WriteLine(
            $"Events published while the subscriber was down (missed by the live path): awaited kill {missedLive[0]} " +
            $"of {Rounds / 2} rounds, pipelined kill {missedLive[1]} of {Rounds / 2}.");
        Assert.True(missedLive[0] + missedLive[1] > 0, "No event was published while the subscriber was down: nothing was proved.");

        // Nothing was sent twice: a duplicate would come before this sentinel.
        var sentinel = await host.Publisher.PublishAsync("s", "e", "sentinel");
        expected.Add(sentinel.Id.ToString());
        var items = await client.WaitUntilAsync(i => i.Any(x => x.EventId == sentinel.Id.ToString()), Generous);
        Assert.Equal(expected, items.Select(i => i.EventId));
        Assert.False(client.Completion.IsCompleted); // the same connection throughout
    }

    /// <summary>A host on the server, a watch on its subscriber, one published event and a client that has received it.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        private Scene(SseTestHost host, RedisConnection redis, SubscriberWatch watch, SseConnection client, SseEvent first)
        {
            Host = host;
            Redis = redis;
            Watch = watch;
            Client = client;
            First = first;
        }

        public SseTestHost Host { get; }

        public RedisConnection Redis { get; }

        public SubscriberWatch Watch { get; }

        public SseConnection Client { get; }

        public SseEvent First { get; }

        public static async Task<Scene> StartAsync(RedisServer server)
        {
            var (host, redis) = await StartHostAsync(server);
            var watch = new SubscriberWatch(redis);
            var first = await host.Publisher.PublishAsync("s", "e", "before");
            var client = await host.ConnectAsync("s", $"{first.Epoch}-0");
            await client.WaitForCountAsync(1);
            return new Scene(host, redis, watch, client, first);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            Watch.Dispose();
            await Host.DisposeAsync();
        }
    }

    private static RedisConnectionOptions FastReconnect(RedisServer server)
    {
        var options = RedisConnectionOptions.Parse(server.ConnectionString);
        options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(300);
        return options;
    }

    /// <summary>A host whose store uses a connection the test can watch; its time never moves, so no heartbeat poll runs.</summary>
    private static async Task<(SseTestHost Host, RedisConnection Redis)> StartHostAsync(RedisServer server)
    {
        var redis = RedisConnection.Create(FastReconnect(server), NullLoggerFactory.Instance);
        var host = await SseTestHost.StartAsync(
            o => o.RedisConnectionString = server.ConnectionString,
            time: new FakeTimeProvider(),
            services: s => s.AddSingleton<ISseStore>(sp => new RedisSseStore(
                sp.GetRequiredService<IOptions<SseOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>(),
                redis)));
        return (host, redis);
    }

    private static async Task<long> PatternCountAsync(RedisConnection admin) =>
        (await admin.ExecuteAsync("PUBSUB", ["NUMPAT"])).AsInt64();

    private static async Task WaitForPatternCountAsync(RedisConnection admin, long count)
    {
        using var deadline = new CancellationTokenSource(Generous);
        while (await PatternCountAsync(admin) != count)
        {
            await Task.Delay(10, deadline.Token);
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

    /// <summary>Counts the subscriber connection's comebacks (Connected after Disconnected: resubscribed).</summary>
    private sealed class SubscriberWatch : IDisposable
    {
        private readonly RedisConnection _redis;
        private int _down;
        private int _reconnects;

        public SubscriberWatch(RedisConnection redis)
        {
            _redis = redis;
            redis.SubscriberStateChanged += OnChanged;
        }

        public int Reconnects => Volatile.Read(ref _reconnects);

        public async Task WaitForReconnectsAsync(int count, TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            while (Reconnects < count)
            {
                await Task.Delay(5, deadline.Token);
            }
        }

        public void Dispose() => _redis.SubscriberStateChanged -= OnChanged;

        private void OnChanged(object? sender, RedisConnectionState state)
        {
            if (state == RedisConnectionState.Disconnected)
            {
                Volatile.Write(ref _down, 1);
            }
            else if (state == RedisConnectionState.Connected && Interlocked.Exchange(ref _down, 0) == 1)
            {
                Interlocked.Increment(ref _reconnects);
            }
        }
    }

    /// <summary>A second handler on the store's pattern: records which events the live path received.</summary>
    private sealed class LiveObserver
    {
        private readonly ConcurrentDictionary<long, bool> _sequences = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _barriers = new();

        public void OnMessage(RedisMessage message)
        {
            if (message.Channel == "sse:n:s")
            {
                _sequences[RedisSseStore.ParseNotification("s", message.Payload.Span).Sequence] = true;
            }
            else
            {
                Barrier(Encoding.UTF8.GetString(message.Payload.Span)).TrySetResult();
            }
        }

        /// <summary>True when the live path got the event: a barrier published later arrives after it on the same connection.</summary>
        public async Task<bool> SawAsync(RedisConnection admin, long sequence, int round)
        {
            await admin.PublishAsync("sse:n:~barrier", round.ToString(CultureInfo.InvariantCulture));
            await Barrier(round.ToString(CultureInfo.InvariantCulture)).Task.WaitAsync(Generous);
            return _sequences.ContainsKey(sequence);
        }

        private TaskCompletionSource Barrier(string id) =>
            _barriers.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
