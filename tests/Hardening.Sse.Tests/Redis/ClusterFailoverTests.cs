using System.Collections.Concurrent;
using System.Globalization;
using System.Net.ServerSentEvents;
using Hardening.Sse;
using Hardening.Sse.Tests.Endpoints;
using Hardening.Sse.Tests.Support;
using Xunit.Abstractions;

namespace Hardening.Sse.Tests.Redis;

/// <summary>
/// The master of a stream's slot is killed (SIGKILL) while events are published and a client reads, on a dedicated
/// local cluster. The README's promise: after the failover the client either continues in the same epoch, every event
/// once and in order, or, when the promoted replica lacked the newest entries, gets an explicit <c>reset</c> to a new
/// epoch; never a reused id and never a silent gap.
/// </summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_killed_master_leaves_the_client_in_order_without_loss_or_with_an_explicit_reset_never_a_reused_id()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var redis = await TestRedis.ConnectAsync(cluster.ConnectionString);
        await using var host = await SseTestHost.StartOnRedisAsync(redis);
        var victim = await cluster.MasterOfAsync("sse:{s}:meta");
        var first = await host.Publisher.PublishAsync("s", "e", "n0");
        var client = new ReconnectingClient(host, $"{first.Epoch}-0");
        await client.ConnectAsync();

        // Publish continuously; the master dies half-way. Each data is unique, so an id seen with two data is a reuse.
        var acknowledged = new ConcurrentDictionary<string, string>(); // data -> id
        var counter = 0;
        using var stop = new CancellationTokenSource();
        var publishing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var data = string.Create(CultureInfo.InvariantCulture, $"n{Interlocked.Increment(ref counter)}");
                try
                {
                    acknowledged[data] = (await host.Publisher.PublishAsync("s", "e", data)).Id.ToString();
                }
                catch (SseStoreUnavailableException)
                {
                    await Task.Delay(20); // not acknowledged: it may or may not be in the log
                }
            }
        });
        await Task.Delay(300);
        var beforeKill = acknowledged.Count;
        await victim.StopAsync();
        await cluster.WaitUntilHealthyAsync(Generous);
        await stop.CancelAsync();
        await publishing;

        // After the failover: these must all reach the client, under exactly the ids the publisher got.
        var after = new List<SseEvent>();
        for (var i = 0; i < 20; i++)
        {
            after.Add(await PublishRetryingAsync(host, $"after{i}"));
        }

        var items = await client.WaitForAsync(after[^1].Id.ToString());
        output.WriteLine($"{beforeKill} events acknowledged before the kill, {acknowledged.Count} in all; the client used {client.Connections} connection(s); " +
            $"resets: {items.Count(i => i.EventType == "reset")}; epochs: {string.Join(", ", items.Select(i => SseEndpointTests.SseEventIdOf(i.EventId).Epoch).Distinct())}");
        Assert.True(beforeKill > 0, "nothing was published before the kill: nothing was tested");

        // In order per epoch, no gap, no duplicate; a reset moves to its epoch, after which nothing of an older one comes.
        string? epoch = null;
        long next = 0;
        var seen = new Dictionary<string, string>(); // id -> data
        foreach (var item in items)
        {
            var id = SseEndpointTests.SseEventIdOf(item.EventId);
            if (item.EventType == "reset")
            {
                Assert.NotEqual(epoch, id.Epoch);
                (epoch, next) = (id.Epoch, id.Sequence + 1);
                continue;
            }

            if (epoch is null)
            {
                (epoch, next) = (id.Epoch, 1);
            }

            Assert.True(id.Epoch == epoch && id.Sequence == next, $"expected {epoch}-{next}, got {item.EventId}: {SseConnection.Describe(items)}");
            next++;
            Assert.True(seen.TryAdd(item.EventId!, item.Data), $"{item.EventId} delivered twice");
            if (acknowledged.TryGetValue(item.Data, out var published))
            {
                Assert.Equal(published, item.EventId); // an acknowledged event arrives under the id it was given
            }
        }

        // Every event acknowledged after the failover arrived under its id, in order, or the client was told it would
        // not: a reset into that event's epoch at or after its sequence (a client that reconnects with an id of the
        // lost epoch once they are published gets "epoch" at the head, re-fetches its state and continues from there).
        var resets = items.Where(i => i.EventType == "reset").Select(i => SseEndpointTests.SseEventIdOf(i.EventId)).ToList();
        var delivered = items.Where(i => i.Data.StartsWith("after", StringComparison.Ordinal)).ToList();
        var missing = after.Where(e => !delivered.Any(d => d.EventId == e.Id.ToString() && d.Data == e.Data)).ToList();
        Assert.All(missing, e => Assert.True(resets.Any(r => r.Epoch == e.Epoch && r.Sequence >= e.Sequence),
            $"{e.Id} ({e.Data}) was acknowledged after the failover but neither delivered nor covered by a reset: {SseConnection.Describe(items)}"));
        Assert.Equal(after.Where(e => !missing.Contains(e)).Select(e => e.Id.ToString()), delivered.Select(i => i.EventId));
        Assert.Equal(after.Where(e => !missing.Contains(e)).Select(e => e.Data), delivered.Select(i => i.Data));
        await client.DisposeAsync();
    }

    private static async Task<SseEvent> PublishRetryingAsync(SseTestHost host, string data)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await host.Publisher.PublishAsync("s", "e", data);
            }
            catch (SseStoreUnavailableException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>A browser: when the response ends (the store went away), it reconnects with its last event id.</summary>
    private sealed class ReconnectingClient(SseTestHost host, string lastEventId) : IAsyncDisposable
    {
        private readonly List<SseItem<string>> _done = [];
        private SseConnection? _current;
        private string _lastEventId = lastEventId;

        public int Connections { get; private set; }

        public async Task ConnectAsync()
        {
            _current = await host.ConnectAsync("s", _lastEventId);
            Connections++;
        }

        public async Task<IReadOnlyList<SseItem<string>>> WaitForAsync(string eventId)
        {
            using var deadline = new CancellationTokenSource(Generous);
            while (true)
            {
                var all = _done.Concat(_current!.Items).ToList();
                if (all.Any(i => i.EventId == eventId))
                {
                    return all;
                }

                if (_current.Completion.IsCompleted)
                {
                    _done.AddRange(_current.Items);
                    _lastEventId = _current.LastEventId ?? _lastEventId;
                    await _current.DisposeAsync();
                    await Task.Delay(100, deadline.Token); // the browser's retry interval, shortened
                    await ConnectAsync();
                    continue;
                }

                await Task.Delay(10, deadline.Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_current is not null)
            {
                await _current.DisposeAsync();
            }
        }
    }
}
