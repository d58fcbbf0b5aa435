using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Hardening.Sse.Tests.Publishing;

/// <summary>The publisher's input rules at their edges, against models written from the documented rules.</summary>
public sealed partial class SsePublisherLimitTests
{
    [GeneratedRegex(@"^[A-Za-z0-9_.:/-]{1,200}\z")]
    private static partial Regex StreamRule();

    private static readonly Gen<string> Streams =
        Gen.Elements('a', 'Z', '7', '-', '_', '.', ':', '/', ' ', '*', '{', '\n', 'é', '\\', '+', '@')
            .ArrayOf().Select(c => new string(c));

    [Property(MaxTest = 300)]
    public Property Stream_names_are_accepted_exactly_when_the_documented_rule_says_so() => Prop.ForAll(Streams.ToArbitrary(), stream =>
    {
        var publisher = Create();
        var accepted = true;
        try
        {
            publisher.PublishAsync(stream, "e", "x").GetAwaiter().GetResult();
        }
        catch (ArgumentException e) when (e.ParamName == "stream")
        {
            accepted = false;
        }

        Assert.True(StreamRule().IsMatch(stream) == accepted, $"'{stream}': rule says {StreamRule().IsMatch(stream)}, publisher says {accepted}");
    });

    [Theory]
    [InlineData("-")]
    [InlineData("_")]
    [InlineData(".")]
    [InlineData(":")]
    [InlineData("/")]
    public async Task Each_allowed_punctuation_mark_is_accepted_on_its_own(string mark) =>
        Assert.Equal(mark, (await Create().PublishAsync(mark, "e", "x")).Stream);

    [Fact]
    public async Task A_stream_name_of_exactly_200_characters_is_accepted() =>
        Assert.Equal(1, (await Create().PublishAsync(new string('s', 200), "e", "x")).Sequence);

    [Fact]
    public async Task An_event_type_of_100_characters_is_accepted_and_101_is_refused_with_the_limit()
    {
        var publisher = Create();
        Assert.Equal(1, (await publisher.PublishAsync("s", new string('t', 100), "x")).Sequence);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("s", new string('t', 101), "x"));
        Assert.Equal("eventType", e.ParamName);
        Assert.Contains("101 characters long; the limit is 100", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\rchanged")]
    [InlineData("\nchanged")]
    [InlineData("\0")]
    [InlineData("changed\n")]
    public async Task A_line_break_or_NUL_anywhere_in_the_event_type_is_refused_by_name(string type)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Create().PublishAsync("s", type, "x"));
        Assert.Contains("CR, LF or NUL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_reserved_reset_type_is_refused_with_the_reason()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Create().PublishAsync("s", "reset", "x"));
        Assert.Contains("'reset' is reserved", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Null_data_is_refused_by_name() =>
        Assert.Equal("data", (await Assert.ThrowsAsync<ArgumentNullException>(() => Create().PublishAsync("s", "e", null!))).ParamName);

    [Fact]
    public async Task Each_publish_is_counted_once_and_refused_ones_not_at_all()
    {
        await using var services = new ServiceCollection().AddLogging().AddHardeningSse().BuildServiceProvider();
        using var published = new MetricCollector<long>(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), SseMeters.MeterName, SseMeters.EventsPublished);
        var publisher = services.GetRequiredService<SsePublisher>();
        await publisher.PublishAsync("s", "e", "1");
        await publisher.PublishAsync("t", "e", "2");
        await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("s", "reset", "3"));
        Assert.Equal(2, published.Sum());
    }

    private static SsePublisher Create() =>
        new ServiceCollection().AddLogging().AddHardeningSse().BuildServiceProvider().GetRequiredService<SsePublisher>();
}
