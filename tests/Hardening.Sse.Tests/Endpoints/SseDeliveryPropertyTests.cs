using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Sse;
using Hardening.Sse.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hardening.Sse.Tests.Endpoints;

/// <summary>
/// The package's central promise, over real HTTP (TestServer): for random interleavings of publishes on several
/// streams and client disconnects/reconnects with Last-Event-ID, every client sees per stream exactly the published
/// sequence (in order, no loss, no duplicate), except that a reconnect from beyond retention gets exactly one reset
/// followed by the events after it. Run on the in-memory store (with read latency, and a retention small enough for
/// resets) and on the Redis store, on one server and on the cluster (a retention no case reaches: <c>MAXLEN ~</c> keeps
/// at least the retention, not exactly it; the reset beyond retention is tested on Redis by RedisSseStoreTests).
/// </summary>
public abstract class SseDeliveryPropertyTests : IAsyncLifetime
{
    private const int Streams = 3;
    private const int Clients = 4;
    private static int _case;

    private enum OpKind
    {
        Publish,
        Disconnect,
        Reconnect,
    }

    /// <summary>Events kept per stream.</summary>
    protected abstract int Retention { get; }

    private protected abstract Task<SseTestHost> StartHostAsync();

    private SseTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StartHostAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Property(MaxTest = 120)]
    public Property Every_client_sees_each_stream_in_order_without_loss_or_duplicates_and_one_reset_beyond_retention()
    {
        var op = Gen.OneOf(
            Gen.Choose(0, Streams - 1).SelectMany(s => Gen.Choose(1, 5), (s, n) => new Op(OpKind.Publish, s, n)),
            Gen.Choose(0, Clients - 1).Select(c => new Op(OpKind.Disconnect, c, 0)),
            Gen.Choose(0, Clients - 1).Select(c => new Op(OpKind.Reconnect, c, 0)));
        var scenario = Gen.Choose(1, 25).SelectMany(n => Gen.ArrayOf(op, n)).ToArbitrary();

        return Prop.ForAll(scenario, ops => RunAsync(_host, ops, Retention).GetAwaiter().GetResult());
    }

    private static async Task RunAsync(SseTestHost host, Op[] ops, int retention)
    {
        var id = Interlocked.Increment(ref _case);
        var streams = Enumerable.Range(0, Streams).Select(s => $"case-{id}/s{s}").ToArray();
        var heads = new long[Streams];
        string? epoch = null;
        var clients = Enumerable.Range(0, Clients).Select(c => new Client(c % Streams, retention)).ToArray();
        try
        {
            foreach (var c in clients)
            {
                await c.ConnectAsync(host, streams, heads, expectReset: false);
            }

            foreach (var o in ops)
            {
                switch (o.Kind)
                {
                    case OpKind.Publish:
                        // A reconnecting client that is still replaying must not have its next event trimmed away
                        // under it (the outcome would depend on timing): let it catch up first when that could happen.
                        foreach (var c in clients.Where(c => c.Stream == o.Target && c.MayBeTrimmedBy(heads[o.Target] + o.Count)))
                        {
                            await c.WaitForHeadAsync(heads[o.Target]);
                        }

                        for (var i = 0; i < o.Count; i++)
                        {
                            var e = await host.Publisher.PublishAsync(streams[o.Target], "changed", $"{o.Target}:{heads[o.Target] + 1}");
                            Assert.Equal(++heads[o.Target], e.Sequence);
                            epoch = e.Epoch;
                        }

                        break;
                    case OpKind.Disconnect:
                        await clients[o.Target].DisconnectAsync();
                        break;
                    case OpKind.Reconnect when clients[o.Target].Connection is null:
                        await clients[o.Target].ReconnectAsync(host, streams, heads);
                        break;
                }
            }

            foreach (var c in clients.Where(c => c.Connection is null))
            {
                await c.ReconnectAsync(host, streams, heads);
            }

            foreach (var c in clients)
            {
                await c.WaitForHeadAsync(heads[c.Stream]);
                await Task.Delay(1); // anything after the head (a duplicate) would be recorded and fail Verify
                await c.DisconnectAsync();
                c.Verify(heads[c.Stream]);
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisconnectAsync();
            }
        }
    }

    private sealed record Op(OpKind Kind, int Target, int Count);

    /// <summary>A simulated browser: remembers its last event id across connections.</summary>
    private sealed class Client(int stream, int retention)
    {
        private readonly List<Segment> _segments = [];
        private long? _pending;

        public int Stream { get; } = stream;

        public SseConnection? Connection { get; private set; }

        private string? LastEventId { get; set; }

        public async Task ConnectAsync(SseTestHost host, string[] streams, long[] heads, bool expectReset)
        {
            Connection = await host.ConnectAsync(streams[Stream], LastEventId);
            var startSeq = LastEventId is null ? heads[Stream] : SseEndpointTests.SseEventIdOf(LastEventId).Sequence;
            _segments.Add(new Segment(Connection, expectReset, startSeq, heads[Stream]));
            _pending = expectReset ? null : startSeq;
            if (LastEventId is null)
            {
                await WaitForHeadAsync(heads[Stream]); // the first connection: wait for its anchor id
            }
        }

        /// <summary>True when the client may still be replaying from a cursor that publishing up to <paramref name="newHead"/> would trim.</summary>
        public bool MayBeTrimmedBy(long newHead) => Connection is not null && _pending is { } cursor && newHead - retention + 1 > cursor + 1;

        public async Task ReconnectAsync(SseTestHost host, string[] streams, long[] heads)
        {
            var cursor = SseEndpointTests.SseEventIdOf(LastEventId).Sequence;
            var firstRetained = Math.Max(1, heads[Stream] - retention + 1);
            await ConnectAsync(host, streams, heads, expectReset: cursor < firstRetained - 1);
        }

        public async Task DisconnectAsync()
        {
            if (Connection is { } c)
            {
                await c.DisposeAsync();
                LastEventId = c.LastEventId ?? LastEventId;
                Connection = null;
            }
        }

        // Like a browser, the client keeps its last event id across connections until a new one arrives.
        public async Task WaitForHeadAsync(long head)
        {
            await Connection!.WaitUntilAsync(_ => (Connection.LastEventId ?? LastEventId) is { } last && SseEndpointTests.SseEventIdOf(last).Sequence >= head);
            _pending = null;
        }

        public void Verify(long head)
        {
            long expectedNext = 0;
            foreach (var s in _segments)
            {
                var items = s.Connection.Items;
                var description = SseConnection.Describe(items);
                var next = s.StartSequence + 1;
                var start = 0;
                if (s.ExpectReset && items.Count > 0)
                {
                    // Publishes may follow the reconnect before the server reads the head: the reset names the head it saw.
                    Assert.True(items[0].EventType == "reset", $"expected a reset first; got {description}");
                    var resetAt = SseEndpointTests.SseEventIdOf(items[0].EventId).Sequence;
                    Assert.True(resetAt >= s.HeadAtConnect, $"reset at {resetAt} before the head {s.HeadAtConnect}: {description}");
                    next = resetAt + 1;
                    start = 1;
                }
                else if (s.ExpectReset)
                {
                    continue; // cut before anything arrived: the next connection starts from the same id
                }
                else if (expectedNext != 0)
                {
                    Assert.Equal(expectedNext, next);
                }

                for (var i = start; i < items.Count; i++)
                {
                    // no second reset, and no reset where none was due
                    Assert.True(items[i].EventType == "changed", $"unexpected {items[i].EventType} in {description}");
                    var seq = SseEndpointTests.SseEventIdOf(items[i].EventId).Sequence;
                    Assert.True(seq == next, $"expected sequence {next}, got {seq}: {description}");
                    Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{Stream}:{seq}"), items[i].Data);
                    next++;
                }

                expectedNext = next;
            }

            Assert.Equal(head + 1, expectedNext);
        }

        private sealed record Segment(SseConnection Connection, bool ExpectReset, long StartSequence, long HeadAtConnect);
    }
}

public sealed class SseDeliveryPropertyInMemoryTests : SseDeliveryPropertyTests
{
    protected override int Retention => 6;

    // A store with read latency (like Redis) so that publishes land between a reconnect's subscribe and its replay read.
    private protected override Task<SseTestHost> StartHostAsync() =>
        SseTestHost.StartAsync(o => o.RetentionCount = Retention, services: s => s.AddSingleton<ISseStore>(sp =>
            new SlowReadStore(new InMemorySseStore(sp.GetRequiredService<IOptions<SseOptions>>(), TimeProvider.System))));

    private sealed class SlowReadStore(ISseStore inner) : ISseStore
    {
        public bool LiveDeliveryMayDrop => false;

        public Task<SseEvent> AppendAsync(string stream, string eventType, string data, string? deduplicationKey, CancellationToken cancellationToken) => inner.AppendAsync(stream, eventType, data, deduplicationKey, cancellationToken);

        public async Task<SseHistory> ReadAsync(string stream, long afterSequence, int maxCount, CancellationToken cancellationToken)
        {
            await Task.Delay(Random.Shared.Next(0, 3), cancellationToken);
            return await inner.ReadAsync(stream, afterSequence, maxCount, cancellationToken);
        }

        public Task<IAsyncDisposable> SubscribeAsync(string stream, ISseListener listener, CancellationToken cancellationToken) => inner.SubscribeAsync(stream, listener, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

public sealed class SseDeliveryPropertyOnOneServerTests(RedisFixture redis) : SseDeliveryPropertyTests, IClassFixture<RedisFixture>
{
    protected override int Retention => 1_000;

    private protected override Task<SseTestHost> StartHostAsync() =>
        SseTestHost.StartOnRedisAsync(redis.Multiplexer, o => { o.RetentionCount = Retention; o.RedisKeyPrefix = $"prop:{Guid.NewGuid():N}:"; });
}

public sealed class SseDeliveryPropertyOnClusterTests(RedisClusterFixture redis) : SseDeliveryPropertyTests, IClassFixture<RedisClusterFixture>
{
    protected override int Retention => 1_000;

    private protected override Task<SseTestHost> StartHostAsync() =>
        SseTestHost.StartOnRedisAsync(redis.Multiplexer, o => { o.RetentionCount = Retention; o.RedisKeyPrefix = $"prop:{Guid.NewGuid():N}:"; });
}
