using Xunit.Abstractions;

namespace Hardening.Redis.Tests.Connection;

/// <summary>
/// Runs alone: it counts every byte the process allocates (continuations hop threads, so a per-thread counter would
/// miss the reader's and the thread pool's share), and other tests running at the same time would add theirs.
/// The test host itself allocates a few KB a second in bursts, so each test takes the quietest of several short rounds.
/// </summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

[Collection(nameof(AllocationCollection))]
public sealed class AllocationTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const int Commands = 2000;
    private const int Rounds = 10;

    // Any object allocated on every command costs at least 24 bytes, so an average under 8 bytes per command means
    // none is. The slack is for what is not per command: the loop's own task, a pool or queue segment filling, and on
    // a loaded machine the thread pool adding threads and the test host's background work (about 1-2 B/command).
    private const double Slack = 8;
    private static readonly byte[] Value = "0123456789abcdef"u8.ToArray();

    [Fact]
    public async Task Awaited_set_allocates_nothing()
    {
        await using var connection = await RedisConnection.ConnectAsync(redis.ConnectionString + ",name=allocation-tests");
        var key = "alloc:" + Guid.NewGuid().ToString("N");

        var perCommand = await MeasureAsync(async () =>
        {
            for (var i = 0; i < Commands; i++)
            {
                await connection.SetAsync(key, Value);
            }
        });

        output.WriteLine($"SET: {perCommand:0.###} B/command");

        // Task-returning command methods cost ~250 B each (the async state machine's box).
        Assert.True(perCommand < Slack, $"An awaited SET allocated {perCommand:0.###} bytes per command on average; expected 0.");
    }

    [Fact]
    public async Task Awaited_get_allocates_only_the_reply()
    {
        await using var connection = await RedisConnection.ConnectAsync(redis.ConnectionString + ",name=allocation-tests");
        var key = "alloc:" + Guid.NewGuid().ToString("N");
        await connection.SetAsync(key, Value);

        var perCommand = await MeasureAsync(async () =>
        {
            for (var i = 0; i < Commands; i++)
            {
                _ = await connection.GetAsync(key);
            }
        });

        // The reply is a byte[16]: a 24-byte array header plus the payload.
        var reply = 24 + Value.Length;
        output.WriteLine($"GET: {perCommand:0.###} B/command (reply {reply} B)");
        Assert.True(perCommand < reply + Slack, $"An awaited GET allocated {perCommand:0.###} bytes per command on average; expected only its {reply}-byte reply.");
    }

    /// <summary>Warm-up, then the fewest bytes per command of several rounds (noise from other threads only adds).</summary>
    private static async Task<double> MeasureAsync(Func<Task> run)
    {
        await run();
        var best = double.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await run();
            var after = GC.GetTotalAllocatedBytes(precise: true);
            best = Math.Min(best, (after - before) / (double)Commands);
        }

        return best;
    }
}
