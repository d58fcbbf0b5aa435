using System.Text.Json;
using Hardening.Sse.Tests.Support;
using StackExchange.Redis;

namespace Hardening.Sse.Tests.Redis;

/// <summary>The Redis store against one real redis-server and the local cluster; each test uses its own key prefix.</summary>
public abstract class RedisSseStoreTests(IRedisTarget redis)
{
    protected IRedisTarget Redis => redis;

    private readonly string _prefix = $"t{Guid.NewGuid():N}:";

    [Fact]
    public async Task Stream_entry_ids_are_derived_from_the_sequence()
    {
        await using var host = await StartAsync();
        var events = new List<SseEvent>();
        for (var i = 0; i < 3; i++)
        {
            events.Add(await host.Publisher.PublishAsync("tenant-1/apps", "changed", $"{{\"n\":{i}}}"));
        }

        Assert.Equal([1L, 2, 3], events.Select(e => e.Sequence));
        Assert.Single(events.Select(e => e.Epoch).Distinct());
        var raw = redis.Multiplexer.GetDatabase();
        var entries = await raw.StreamRangeAsync($"{_prefix}{{tenant-1/apps}}:log");
        Assert.Equal(["1-0", "2-0", "3-0"], entries.Select(e => (string)e.Id!));
        var meta = await raw.HashGetAsync($"{_prefix}{{tenant-1/apps}}:meta", "epoch");
        Assert.Equal(events[0].Epoch, (string?)meta);
    }

    [Fact]
    public async Task A_deduplication_key_appends_once_across_publishers_and_readers_see_one_event()
    {
        await using var host = await StartAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => host.Publisher.PublishAsync("s", "e", "row 7", "outbox-7")));
        Assert.Single(results.Select(e => e.Id).Distinct());
        var next = await host.Publisher.PublishAsync("s", "e", "row 8", "outbox-8");
        Assert.Equal(results[0].Sequence + 1, next.Sequence);
        Assert.Equal(results[0].PublishedAt, (await host.Publisher.PublishAsync("s", "e", "row 7", "outbox-7")).PublishedAt);
        var entries = await redis.Multiplexer.GetDatabase().StreamRangeAsync($"{_prefix}{{s}}:log");
        Assert.Equal(2, entries.Length);
    }

    [Fact]
    public async Task Replay_after_last_event_id_comes_from_redis_with_data_intact()
    {
        await using var host = await StartAsync();
        var events = new List<SseEvent>();
        for (var i = 0; i < 5; i++)
        {
            events.Add(await host.Publisher.PublishAsync("s", "changed", $"line {i}\nsecond line é 😀"));
        }

        await using var c = await host.ConnectAsync("s", events[1].Id.ToString());
        var items = await c.WaitForCountAsync(3);
        Assert.Equal(events.Skip(2).Select(e => e.Id.ToString()), items.Select(i => i.EventId));
        Assert.Equal(events.Skip(2).Select(e => e.Data), items.Select(i => i.Data));
    }

    [Fact]
    public async Task Maxlen_trimming_keeps_at_least_the_retention_and_older_ids_get_a_reset()
    {
        await using var host = await StartAsync(o => o.RetentionCount = 10);
        var first = await host.Publisher.PublishAsync("s", "e", "x");
        for (var i = 0; i < 399; i++)
        {
            await host.Publisher.PublishAsync("s", "e", "x");
        }

        var length = await redis.Multiplexer.GetDatabase().StreamLengthAsync($"{_prefix}{{s}}:log");
        Assert.InRange(length, 10, 399);

        await using var c = await host.ConnectAsync("s", first.Id.ToString());
        var items = await c.WaitForCountAsync(1);
        Assert.Equal("reset", items[0].EventType);
        Assert.Equal($"{first.Epoch}-400", items[0].EventId);
    }

    [Fact]
    public async Task Entries_older_than_the_retention_age_are_trimmed_by_the_next_append_and_younger_ones_kept()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await SseTestHost.StartOnRedisAsync(redis.Multiplexer, o =>
        {
            o.RedisKeyPrefix = _prefix;
            o.RetentionAge = TimeSpan.FromMinutes(5);
        }, time: clock);
        var log = $"{_prefix}{{aged}}:log";
        async Task<string[]> IdsAsync() => (await redis.Multiplexer.GetDatabase().StreamRangeAsync(log)).Select(e => (string)e.Id!).ToArray();

        for (var i = 0; i < 3; i++)
        {
            await host.Publisher.PublishAsync("aged", "e", "old");
        }

        clock.Advance(TimeSpan.FromMinutes(4));
        await host.Publisher.PublishAsync("aged", "e", "young");
        Assert.Equal(["1-0", "2-0", "3-0", "4-0"], await IdsAsync()); // the oldest is 4 minutes old: nothing to trim

        clock.Advance(TimeSpan.FromMinutes(2));
        await host.Publisher.PublishAsync("aged", "e", "new");
        Assert.Equal(["4-0", "5-0"], await IdsAsync()); // 1-3 are 6 minutes old, 4 is 2 minutes old
    }

    [Fact]
    public async Task Epoch_changes_when_the_history_is_lost_and_old_ids_get_a_reset()
    {
        await using var host = await StartAsync();
        var before = await host.Publisher.PublishAsync("s", "e", "1");
        await host.Publisher.PublishAsync("s", "e", "2");
        await redis.Multiplexer.GetDatabase().KeyDeleteAsync([$"{_prefix}{{s}}:meta", $"{_prefix}{{s}}:log"]);

        var after = await host.Publisher.PublishAsync("s", "e", "3");
        Assert.NotEqual(before.Epoch, after.Epoch);
        Assert.Equal(1, after.Sequence);

        await using var c = await host.ConnectAsync("s", before.Id.ToString());
        var items = await c.WaitForCountAsync(1);
        Assert.Equal("reset", items[0].EventType);
        Assert.Equal("epoch", JsonDocument.Parse(items[0].Data).RootElement.GetProperty("reason").GetString());
        Assert.Equal(after.Id.ToString(), items[0].EventId);
    }

    [Fact]
    public async Task Two_instances_share_one_order_with_concurrent_publishers_on_both()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        await using var onB = await b.ConnectAsync("shared");
        await using var onA = await a.ConnectAsync("shared");
        await onB.WaitUntilAsync(_ => onB.LastEventId is not null);
        await onA.WaitUntilAsync(_ => onA.LastEventId is not null);

        const int PerPublisher = 60;
        var publishers = new[] { a, a, b, b }.Select((h, n) => Task.Run(async () =>
        {
            var mine = new List<SseEvent>();
            for (var i = 0; i < PerPublisher; i++)
            {
                mine.Add(await h.Publisher.PublishAsync("shared", "changed", $"{n}:{i}"));
            }

            return mine;
        })).ToArray();
        var published = (await Task.WhenAll(publishers)).SelectMany(x => x).OrderBy(e => e.Sequence).ToList();
        Assert.Equal(Enumerable.Range(1, 4 * PerPublisher).Select(n => (long)n), published.Select(e => e.Sequence));

        foreach (var c in new[] { onA, onB })
        {
            var items = await c.WaitForCountAsync(4 * PerPublisher);
            Assert.Equal(published.Select(e => e.Id.ToString()), items.Select(i => i.EventId));
            Assert.Equal(published.Select(e => e.Data), items.Select(i => i.Data));
        }

        // A late reader on B resumes from an id that A's publishers produced.
        await using var late = await b.ConnectAsync("shared", published[99].Id.ToString());
        var rest = await late.WaitForCountAsync(published.Count - 100);
        Assert.Equal(published.Skip(100).Select(e => e.Id.ToString()), rest.Select(i => i.EventId));
    }

    [Fact]
    public async Task A_stream_that_went_backwards_never_reuses_an_id_and_readers_get_a_reset()
    {
        // What a failover to a replica that missed the newest entries does: the meta and log lose their last events.
        await using var host = await StartAsync();
        var published = new List<SseEvent>();
        for (var i = 0; i < 5; i++)
        {
            published.Add(await host.Publisher.PublishAsync("s", "e", $"{i}"));
        }

        await using var live = await host.ConnectAsync("s", $"{published[0].Epoch}-0");
        await live.WaitForCountAsync(5);
        var db = redis.Multiplexer.GetDatabase();
        var log = $"{_prefix}{{s}}:log";
        var kept = await db.StreamRangeAsync(log, "1-0", "3-0");
        await db.KeyDeleteAsync(log);
        foreach (var entry in kept)
        {
            await db.StreamAddAsync(log, entry.Values, entry.Id);
        }

        await db.HashSetAsync($"{_prefix}{{s}}:meta", "seq", 3);

        // The next publish takes sequence 4 again in the same epoch; the instance whose reader saw the old 4 and 5 must
        // not let the reader skip it or see "4" twice: it moves the stream to a new epoch and the reader is reset.
        var reused = await host.Publisher.PublishAsync("s", "e", "after the loss");
        var items = await live.WaitUntilAsync(i => i.Skip(5).Any(x => x.EventType == "reset"), TimeSpan.FromSeconds(30));
        var after = await host.Publisher.PublishAsync("s", "e", "in the new epoch");
        Assert.NotEqual(published[0].Epoch, after.Epoch);
        items = await live.WaitUntilAsync(i => i.Any(x => x.EventId == after.Id.ToString()), TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(items, i => i.EventId == reused.Id.ToString() && i.Data == "after the loss"); // never (epoch, 4) twice
        Assert.Equal(items.Count, items.Select(i => i.EventId).Distinct().Count());
        Assert.Equal("reset", items[5].EventType);

        // A reader that comes back with an id of the lost part is reset too, never resumed into reused ids.
        await using var late = await host.ConnectAsync("s", published[4].Id.ToString());
        Assert.Equal("reset", (await late.WaitForCountAsync(1))[0].EventType);
    }

    private Task<SseTestHost> StartAsync(Action<SseOptions>? configure = null) =>
        SseTestHost.StartOnRedisAsync(redis.Multiplexer, o =>
        {
            o.RedisKeyPrefix = _prefix;
            configure?.Invoke(o);
        });
}

public sealed class RedisSseStoreOnOneServerTests(RedisFixture redis) : RedisSseStoreTests(redis), IClassFixture<RedisFixture>;

public sealed class RedisSseStoreOnClusterTests(RedisClusterFixture redis) : RedisSseStoreTests(redis), IClassFixture<RedisClusterFixture>;
