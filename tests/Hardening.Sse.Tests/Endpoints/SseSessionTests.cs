using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using Hardening.Sse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hardening.Sse.Tests.Endpoints;

/// <summary>The replay-then-live merge, driven directly with a store that publishes at the worst moments.</summary>
public sealed class SseSessionTests
{
    [Fact]
    public async Task Events_published_between_subscribe_and_replay_are_sent_once()
    {
        var (inner, metrics) = Create();
        for (var i = 0; i < 5; i++)
        {
            await inner.AppendAsync("s", "e", "x", null, default);
        }

        // Every read first publishes two more events: they reach the session live AND appear in the read.
        var store = new RacingStore(inner, onRead: async () =>
        {
            await inner.AppendAsync("s", "e", "x", null, default);
            await inner.AppendAsync("s", "e", "x", null, default);
        }, maxRaces: 3);
        var epoch = (await inner.ReadAsync("s", 0, 0, default)).Epoch;
        var items = await RunUntilAsync(store, metrics, $"{epoch}-2", afterCatchUp: () => inner.AppendAsync("s", "e", "sentinel", null, default), lastId: $"{epoch}-12");
        Assert.Equal(Enumerable.Range(3, 10).Select(n => $"{epoch}-{n}"), items.Select(i => i.EventId));
    }

    [Fact]
    public async Task A_gap_in_live_delivery_is_filled_from_the_log()
    {
        var (inner, metrics) = Create();
        var store = new RacingStore(inner, onRead: () => Task.CompletedTask, maxRaces: 0) { DropLiveSequences = [3, 4, 7] };
        var epoch = (await inner.ReadAsync("s", 0, 0, default)).Epoch;
        var pipe = new Pipe();
        var session = new SseSession(store, "s", Options(), metrics, TimeProvider.System, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = session.RunAsync(pipe.Writer, $"{epoch}-0", SseStartPosition.Now, cts.Token);
        await Task.Delay(20);
        for (var i = 0; i < 8; i++)
        {
            await inner.AppendAsync("s", "e", "x", null, default);
        }

        var items = await ReadUntilAsync(pipe, $"{epoch}-8");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(Enumerable.Range(1, 8).Select(n => $"{epoch}-{n}"), items.Select(i => i.EventId));
    }

    [Fact]
    public async Task A_catch_up_request_that_finds_the_queue_full_is_not_lost()
    {
        var options = new SseOptions { ReplayBatchSize = 2, SubscriberQueueCapacity = 4 };
        var inner = new InMemorySseStore(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System);
        var (_, metrics) = Create();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blockReads = false;
        var store = new RacingStore(inner, onRead: () => Volatile.Read(ref blockReads) ? gate.Task : Task.CompletedTask, maxRaces: int.MaxValue)
        {
            DropLiveSequences = [1, 7],
        };
        var epoch = (await inner.ReadAsync("s", 0, 0, default)).Epoch;
        var pipe = new Pipe();

        // A clock that never moves: no heartbeat poll can rescue a lost catch-up.
        var session = new SseSession(store, "s", options, metrics, new FakeTimeProvider(), NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = session.RunAsync(pipe.Writer, $"{epoch}-0", SseStartPosition.Now, cts.Token);
        var reading = ReadUntilAsync(pipe, $"{epoch}-7");
        await Task.Delay(50);

        // Event 1 is lost live, so event 2 makes the session read the log, where it stays blocked.
        Volatile.Write(ref blockReads, true);
        await inner.AppendAsync("s", "e", "1", null, default);
        await inner.AppendAsync("s", "e", "2", null, default);
        while (store.Reads < 2)
        {
            await Task.Delay(5);
        }

        // 3..6 fill the queue (capacity 4) without overflowing it; 7 is lost live, and the catch-up signal finds the queue full.
        for (var i = 3; i <= 7; i++)
        {
            await inner.AppendAsync("s", "e", i.ToString(System.Globalization.CultureInfo.InvariantCulture), null, default);
        }

        store.OnCatchUpNeeded();
        Volatile.Write(ref blockReads, false);
        gate.SetResult();

        var items = await reading;
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(Enumerable.Range(1, 7).Select(n => $"{epoch}-{n}"), items.Where(i => i.EventType == "e").Select(i => i.EventId));
    }

    private static async Task<List<SseItem<string>>> RunUntilAsync(ISseStore store, SseMetrics metrics, string lastEventId, Func<Task> afterCatchUp, string lastId)
    {
        var pipe = new Pipe();
        var session = new SseSession(store, "s", Options(), metrics, TimeProvider.System, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = session.RunAsync(pipe.Writer, lastEventId, SseStartPosition.Now, cts.Token);
        var reading = ReadUntilAsync(pipe, lastId);
        while (session.Cursor.Sequence < 11)
        {
            await Task.Delay(5);
        }

        // A sentinel after the replay: any duplicate from the live queue would be written before it.
        await afterCatchUp();
        var items = await reading;
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        return items;
    }

    private static async Task<List<SseItem<string>>> ReadUntilAsync(Pipe pipe, string lastId)
    {
        var items = new List<SseItem<string>>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await foreach (var item in SseParser.Create(pipe.Reader.AsStream()).EnumerateAsync(timeout.Token))
        {
            items.Add(item);
            if (item.EventId == lastId)
            {
                break;
            }
        }

        return items;
    }

    private static SseOptions Options() => new() { ReplayBatchSize = 2 };

    private static (InMemorySseStore Store, SseMetrics Metrics) Create()
    {
        var options = Microsoft.Extensions.Options.Options.Create(Options());
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return (new InMemorySseStore(options, TimeProvider.System), new SseMetrics(meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
    }

    private sealed class RacingStore(ISseStore inner, Func<Task> onRead, int maxRaces) : ISseStore, ISseListener
    {
        public bool LiveDeliveryMayDrop => false;

        private int _races;
        private ISseListener? _listener;

        public HashSet<long> DropLiveSequences { get; init; } = [];

        public Task<SseEvent> AppendAsync(string stream, string eventType, string data, string? deduplicationKey, CancellationToken cancellationToken) => inner.AppendAsync(stream, eventType, data, deduplicationKey, cancellationToken);

        public int Reads => Volatile.Read(ref _races);

        public async Task<SseHistory> ReadAsync(string stream, long afterSequence, int maxCount, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _races) <= maxRaces)
            {
                await onRead();
            }

            return await inner.ReadAsync(stream, afterSequence, maxCount, cancellationToken);
        }

        public Task<IAsyncDisposable> SubscribeAsync(string stream, ISseListener listener, CancellationToken cancellationToken)
        {
            _listener = listener;
            return inner.SubscribeAsync(stream, this, cancellationToken);
        }

        public void OnEvent(SseEvent sseEvent)
        {
            if (!DropLiveSequences.Contains(sseEvent.Sequence))
            {
                _listener!.OnEvent(sseEvent);
            }
        }

        public void OnCatchUpNeeded() => _listener!.OnCatchUpNeeded();

        public void OnStoreUnavailable() => _listener!.OnStoreUnavailable();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
