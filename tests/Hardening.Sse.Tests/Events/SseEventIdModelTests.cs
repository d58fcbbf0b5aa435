using System.Numerics;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Sse.Tests.Events;

/// <summary>
/// <see cref="SseEventId.TryParse"/> against a reference model written from the documented format alone: a regular
/// expression, the 52-character limit and the range of a long (BigInteger), never the parser itself.
/// </summary>
public sealed partial class SseEventIdModelTests
{
    [GeneratedRegex(@"^([A-Za-z0-9]{1,32})-([0-9]+)\z")]
    private static partial Regex Format();

    private static (bool Valid, string Epoch, long Sequence) Model(string value)
    {
        if (value.Length > 52 || Format().Match(value) is not { Success: true } m)
        {
            return (false, "", 0);
        }

        var sequence = BigInteger.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return sequence > long.MaxValue ? (false, "", 0) : (true, m.Groups[1].Value, (long)sequence);
    }

    // Ids built near every limit: epochs of 0-34 characters (letters, digits, and now and then one that is not),
    // separators, 0-21 digits with leading zeros, so lengths 51-54 and sequences near long.MaxValue come up often.
    private static readonly Gen<string> Ids =
        from epochLength in Gen.Choose(0, 34)
        from epoch in Gen.Elements('a', 'Z', '0', '9', 'f', 'q').ArrayOf(epochLength)
        from oddOne in Gen.Elements("", "", "", "_", " ", "é", "-", "\n")
        from at in Gen.Choose(0, Math.Max(0, epochLength))
        from separator in Gen.Elements("-", "-", "-", "", "--", "+")
        from digitCount in Gen.Choose(0, 21)
        from digits in Gen.Elements('0', '1', '9', '2').ArrayOf(digitCount)
        from big in Gen.Elements("", "", "9223372036854775807", "9223372036854775808")
        select new string(epoch).Insert(Math.Min(at, epochLength), oddOne) + separator + (big.Length > 0 ? big : new string(digits));

    [Property(MaxTest = 1000)]
    public Property TryParse_agrees_with_the_format_model() => Prop.ForAll(Ids.ToArbitrary(), value =>
    {
        var expected = Model(value);
        var parsed = SseEventId.TryParse(value, out var id);
        Assert.True(expected.Valid == parsed, $"'{value}' ({value.Length} chars): model says {expected.Valid}, TryParse says {parsed}");
        if (parsed)
        {
            Assert.Equal((expected.Epoch, expected.Sequence), (id.Epoch, id.Sequence));
        }
    });

    [Theory]
    [InlineData(32, "1000000000000000000", true)]    // 52 characters: the limit
    [InlineData(32, "00000000000000000001", false)] // 53 characters, although the sequence (1) fits a long
    [InlineData(33, "1", false)]                    // epoch over 32
    [InlineData(32, "1", true)]
    [InlineData(1, "99999999999999999999", false)]  // over long.MaxValue
    [InlineData(1, "9223372036854775807", true)]
    public void The_limits(int epochLength, string digits, bool valid)
    {
        var value = new string('a', epochLength) + "-" + digits;
        Assert.Equal(valid, SseEventId.TryParse(value, out _));
        Assert.Equal(Model(value).Valid, valid); // the model agrees on its own limits
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("abc-")]
    [InlineData("ab_c-1")]
    [InlineData("abc-1a")]
    [InlineData("abc-+1")]
    public void Malformed_ids_are_refused(string? value) => Assert.False(SseEventId.TryParse(value, out _));

    [Fact]
    public void An_event_describes_itself_by_stream_id_and_type() =>
        Assert.Equal("tenant-1/apps 0a1b-7 changed", new SseEvent("tenant-1/apps", "0a1b", 7, "changed", "{}", DateTimeOffset.UnixEpoch).ToString());
}
