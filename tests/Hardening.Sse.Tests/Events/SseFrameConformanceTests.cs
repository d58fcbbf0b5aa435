using System.Net.ServerSentEvents;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Sse.Tests.Events;

/// <summary>Frames this package writes are what <see cref="SseParser"/> (the reference reader in .NET) reads back.</summary>
public sealed class SseFrameConformanceTests
{
    private static readonly Gen<string> Text = Gen.Elements("a", "b", " ", ":", "data: x", "\n", "\n\n", "é", "😀", "\0", "id: 9", "{\"k\":1}", "")
        .ArrayOf().Select(parts => string.Concat(parts));

    private static readonly Gen<string> EventType = Gen.Elements("changed", "status-changed", "a:b", "x y", "é", "message")
        .ArrayOf().Select(parts => string.Concat(parts)).Where(t => t.Length > 0);

    [Property(MaxTest = 300)]
    public Property Event_frames_round_trip_through_SseParser()
    {
        var gen = Text.SelectMany(_ => EventType, (data, type) => (data, type))
            .SelectMany(_ => Gen.Choose(0, int.MaxValue), (t, seq) => (t.data, t.type, seq));
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var e = new SseEvent("s", "0a1b2c3d4e5f", t.seq, t.type, t.data, DateTimeOffset.UnixEpoch);
            var items = Parse(e.Frame);
            var item = Assert.Single(items);
            Assert.Equal(t.data, item.Data);
            Assert.Equal(t.type, item.EventType);
            Assert.Equal(e.Id.ToString(), item.EventId);
        });
    }

    [Property(MaxTest = 300)]
    public Property Ids_never_contain_cr_lf_or_nul_and_parse_back()
    {
        var gen = Gen.Choose(0, int.MaxValue).SelectMany(_ => Gen.Choose(0, int.MaxValue), (a, b) => ((long)a << 31) | (uint)b);
        return Prop.ForAll(gen.ToArbitrary(), seq =>
        {
            var id = new SseEventId(SseEventId.NewEpoch(), seq).ToString();
            Assert.True(id.AsSpan().IndexOfAny('\r', '\n', '\0') < 0);
            Assert.True(id.Length <= SseEventId.MaxLength && System.Text.Encoding.UTF8.GetByteCount(id) < 128);
            Assert.True(SseEventId.TryParse(id, out var parsed));
            Assert.Equal(seq, parsed.Sequence);
            Assert.Equal(id, parsed.ToString());
        });
    }

    [Property(MaxTest = 500)]
    public Property Arbitrary_strings_never_parse_into_an_id_that_prints_differently()
    {
        return Prop.ForAll(ArbMap.Default.ArbFor<string>(), s =>
        {
            if (SseEventId.TryParse(s, out var id))
            {
                Assert.Equal(s, id.ToString());
            }
        });
    }

    [Fact]
    public void Reset_and_anchor_frames_parse()
    {
        var id = new SseEventId("abc123", 7);
        var reset = Assert.Single(Parse(SseFrames.Reset(id, "retention")));
        Assert.Equal("reset", reset.EventType);
        Assert.Equal("abc123-7", reset.EventId);
        Assert.Contains("\"retention\"", reset.Data, StringComparison.Ordinal);

        using var stream = new MemoryStream([.. SseFrames.Retry(TimeSpan.FromSeconds(2)), .. SseFrames.Anchor(id), .. SseFrames.Heartbeat]);
        var parser = SseParser.Create(stream);
        Assert.Empty(parser.Enumerate());
        Assert.Equal("abc123-7", parser.LastEventId);
        Assert.Equal(TimeSpan.FromSeconds(2), parser.ReconnectionInterval);
    }

    private static List<SseItem<string>> Parse(byte[] frame)
    {
        using var stream = new MemoryStream(frame);
        return [.. SseParser.Create(stream).Enumerate()];
    }
}
