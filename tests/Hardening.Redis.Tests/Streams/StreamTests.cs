using System.Text;

namespace Hardening.Redis.Tests.Streams;

public sealed class StreamTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private RedisConnection _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisConnection.ConnectAsync(redis.ConnectionString);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static string Key() => "stream:" + Guid.NewGuid().ToString("N");

    private static KeyValuePair<string, RedisArg>[] Fields(int i) => [new("n", (long)i), new("text", "entry " + i)];

    [Fact]
    public async Task Add_then_range_and_reverse_range_return_entries_in_order()
    {
        var key = Key();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await _redis.StreamAddAsync(key, "*", Fields(i)));
        }

        var all = await _redis.StreamRangeAsync(key);
        Assert.Equal(ids, all.Select(e => e.Id));
        Assert.Equal("n", all[2].Fields[0].Key);
        Assert.Equal("2", Encoding.UTF8.GetString(all[2].Fields[0].Value));
        Assert.Equal("entry 2", Encoding.UTF8.GetString(all[2].Fields[1].Value));

        var reversed = await _redis.StreamReverseRangeAsync(key, count: 2);
        Assert.Equal([ids[4], ids[3]], reversed.Select(e => e.Id));

        var middle = await _redis.StreamRangeAsync(key, ids[1], ids[3]);
        Assert.Equal(ids[1..4], middle.Select(e => e.Id));
        Assert.Empty(await _redis.StreamRangeAsync(Key()));
    }

    [Fact]
    public async Task Explicit_ids_and_binary_values_round_trip()
    {
        var key = Key();
        var id = await _redis.StreamAddAsync(key, "5-1", [new("bin", new byte[] { 0, 255, 13, 10 })]);
        Assert.Equal("5-1", id);
        var entry = Assert.Single(await _redis.StreamRangeAsync(key));
        Assert.Equal(new byte[] { 0, 255, 13, 10 }, entry.Fields[0].Value);
        var ex = await Assert.ThrowsAsync<RedisServerException>(() => _redis.StreamAddAsync(key, "1-1", Fields(0)).AsTask());
        Assert.Contains("equal or smaller", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Maxlen_exact_trims_to_the_length_and_minid_drops_older_entries()
    {
        var key = Key();
        for (var i = 1; i <= 10; i++)
        {
            await _redis.StreamAddAsync(key, $"{i}-0", Fields(i), maxLength: 3, approximateTrim: false);
        }

        Assert.Equal(["8-0", "9-0", "10-0"], (await _redis.StreamRangeAsync(key)).Select(e => e.Id));

        await _redis.StreamAddAsync(key, "11-0", Fields(11), RedisStreamTrim.ToMinId("10-0", approximate: false));
        Assert.Equal(["10-0", "11-0"], (await _redis.StreamRangeAsync(key)).Select(e => e.Id));

        // Approximate trimming is accepted by the server (it may keep more entries).
        await _redis.StreamAddAsync(key, "12-0", Fields(12), RedisStreamTrim.ToMaxLength(1));
        Assert.InRange((await _redis.StreamRangeAsync(key)).Count, 1, 3);
    }

    [Fact]
    public async Task Read_without_block_returns_entries_after_the_id()
    {
        var key = Key();
        var first = await _redis.StreamAddAsync(key, "*", Fields(1));
        var second = await _redis.StreamAddAsync(key, "*", Fields(2));
        Assert.Equal([second], (await _redis.StreamReadAsync(key, first)).Select(e => e.Id));
        Assert.Empty(await _redis.StreamReadAsync(key, second));
        Assert.Equal([first], (await _redis.StreamReadAsync(key, "0", count: 1)).Select(e => e.Id));
    }

    [Fact]
    public async Task Blocking_read_waits_on_its_own_connection_and_returns_the_new_entry()
    {
        var key = Key();
        var read = _redis.StreamReadAsync(key, "$", block: TimeSpan.FromSeconds(30));

        // The shared connection stays responsive while the read blocks.
        for (var i = 0; i < 10; i++)
        {
            await _redis.PingAsync();
        }

        // Wait until the blocked client is visible before adding, so '$' cannot miss the entry.
        for (var i = 0; i < 200 && !(await _redis.ExecuteAsync("CLIENT LIST", [])).AsString()!.Contains("cmd=xread", StringComparison.Ordinal); i++)
        {
            await Task.Delay(10);
        }

        var id = await _redis.StreamAddAsync(key, "*", Fields(7));
        var entries = await read;
        Assert.Equal(id, Assert.Single(entries).Id);
    }

    [Fact]
    public async Task Blocking_read_times_out_empty()
    {
        var entries = await _redis.StreamReadAsync(Key(), "$", block: TimeSpan.FromMilliseconds(50));
        Assert.Empty(entries);
    }

    [Fact]
    public async Task Cancelled_blocking_read_throws_and_later_reads_work()
    {
        var key = Key();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _redis.StreamReadAsync(key, "$", block: TimeSpan.Zero, cancellationToken: cts.Token).AsTask());
        var id = await _redis.StreamAddAsync(key, "*", Fields(1));
        Assert.Equal(id, Assert.Single(await _redis.StreamReadAsync(key, "0", block: TimeSpan.FromSeconds(5))).Id);
    }

    [Fact]
    public async Task Bad_arguments_are_rejected_before_sending()
    {
        await Assert.ThrowsAsync<ArgumentException>("fields", () => _redis.StreamAddAsync(Key(), "*", []).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("count", () => _redis.StreamRangeAsync(Key(), count: 0).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("block", () => _redis.StreamReadAsync(Key(), "$", block: TimeSpan.FromSeconds(-1)).AsTask());
        Assert.Throws<ArgumentOutOfRangeException>(() => RedisStreamTrim.ToMaxLength(-1));
    }
}
