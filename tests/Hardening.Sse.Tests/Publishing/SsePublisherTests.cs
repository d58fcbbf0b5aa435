using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hardening.Sse.Tests.Publishing;

public sealed class SsePublisherTests
{
    [Theory]
    [InlineData("", "empty")]
    [InlineData("a b", "' '")]
    [InlineData("a\nb", "\\u000a")]
    [InlineData("{tag}", "'{'")]
    [InlineData("a*", "'*'")]
    public async Task Invalid_stream_names_are_rejected_with_the_reason(string stream, string reason)
    {
        var publisher = Create();
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync(stream, "e", "x"));
        Assert.Equal("stream", ex.ParamName);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_long_stream_name_is_rejected() =>
        Assert.Contains("limit is 200", (await Assert.ThrowsAsync<ArgumentException>(() => Create().PublishAsync(new string('a', 201), "e", "x"))).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a\0b")]
    [InlineData("reset")]
    [InlineData("")]
    public async Task Invalid_event_types_are_rejected(string type) =>
        Assert.Equal("eventType", (await Assert.ThrowsAnyAsync<ArgumentException>(() => Create().PublishAsync("s", type, "x"))).ParamName);

    [Fact]
    public async Task Data_with_a_carriage_return_or_over_the_limit_is_rejected_not_altered()
    {
        var publisher = Create(o => o.MaxDataLength = 11);
        Assert.Contains("carriage return", (await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("s", "e", "a\r\nb"))).Message, StringComparison.Ordinal);
        Assert.Contains("MaxDataLength is 11", (await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("s", "e", new string('x', 12)))).Message, StringComparison.Ordinal);
        var ok = await publisher.PublishAsync("s", "e", "line1\nline2");
        Assert.Equal(1, ok.Sequence); // the rejected ones took no sequence number
    }

    [Fact]
    public async Task Concurrent_publishers_get_gap_free_strictly_increasing_sequences_per_stream()
    {
        var publisher = Create();
        var tasks = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var mine = new List<SseEvent>();
            for (var i = 0; i < 250; i++)
            {
                mine.Add(await publisher.PublishAsync($"s{i % 2}", "e", $"{w}"));
            }

            return mine;
        })).ToArray();
        var all = (await Task.WhenAll(tasks)).SelectMany(x => x).ToList();
        foreach (var group in all.GroupBy(e => e.Stream))
        {
            Assert.Equal(Enumerable.Range(1, 1000).Select(n => (long)n), group.Select(e => e.Sequence).Order());
            Assert.Single(group.Select(e => e.Epoch).Distinct());
        }

        foreach (var list in tasks.Select(t => t.Result))
        {
            foreach (var group in list.GroupBy(e => e.Stream))
            {
                Assert.Equal(group.Select(e => e.Sequence).Order(), group.Select(e => e.Sequence)); // each publisher sees its own in order
            }
        }
    }

    [Fact]
    public async Task Each_stream_has_its_own_epoch_and_a_new_store_has_new_epochs()
    {
        var a = await Create().PublishAsync("s", "e", "x");
        var b = await Create().PublishAsync("s", "e", "x");
        Assert.NotEqual(a.Epoch, b.Epoch);
        Assert.Matches("^[0-9a-f]{12}-1$", a.Id.ToString());
    }

    [Theory]
    [InlineData(0, "RetentionCount")]
    [InlineData(1, "HeartbeatInterval")]
    [InlineData(2, "SubscriberQueueCapacity")]
    [InlineData(3, "IdleStreamExpiry")]
    [InlineData(4, "RedisKeyPrefix")]
    public void Invalid_options_fail_at_startup_naming_the_option(int which, string name)
    {
        var services = new ServiceCollection().AddLogging().AddHardeningSse(o =>
        {
            switch (which)
            {
                case 0: o.RetentionCount = 0; break;
                case 1: o.HeartbeatInterval = TimeSpan.Zero; break;
                case 2: o.SubscriberQueueCapacity = 0; break;
                case 3: o.IdleStreamExpiry = TimeSpan.FromMinutes(1); break;
                case 4: o.RedisKeyPrefix = "a{b"; break;
            }
        });
        using var sp = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<SseOptions>>().Value);
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deduplication_key_publishes_once_and_returns_the_first_event_again()
    {
        var publisher = Create();
        var first = await publisher.PublishAsync("s", "e", "row 1", "outbox-1");
        var again = await publisher.PublishAsync("s", "e", "row 1", "outbox-1");
        var other = await publisher.PublishAsync("s", "e", "row 2", "outbox-2");
        var plain = await publisher.PublishAsync("s", "e", "row 2");
        Assert.Equal(first.Id, again.Id);
        Assert.Equal([1L, 2, 3], new[] { first.Sequence, other.Sequence, plain.Sequence });
        Assert.Equal(1, (await publisher.PublishAsync("other", "e", "row 1", "outbox-1")).Sequence); // keys are per stream
    }

    [Fact]
    public async Task A_deduplication_key_is_forgotten_with_its_event_when_retention_trims_it()
    {
        var publisher = Create(o => o.RetentionCount = 2);
        var first = await publisher.PublishAsync("s", "e", "x", "k");
        await publisher.PublishAsync("s", "e", "y");
        await publisher.PublishAsync("s", "e", "z");
        Assert.Equal(4, (await publisher.PublishAsync("s", "e", "x", "k")).Sequence);
        Assert.Equal(1, first.Sequence);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\nb")]
    public async Task An_invalid_deduplication_key_is_rejected(string key) =>
        Assert.Equal("deduplicationKey", (await Assert.ThrowsAsync<ArgumentException>(() => Create().PublishAsync("s", "e", "x", key))).ParamName);

    private static SsePublisher Create(Action<SseOptions>? configure = null) =>
        new ServiceCollection().AddLogging().AddHardeningSse(configure).BuildServiceProvider().GetRequiredService<SsePublisher>();
}
