using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Hardening.Redis.Tests.Protocol;

public sealed class RespParserTests
{
    private static List<RespValue> ParseIncrementally(byte[] stream, IReadOnlyList<int> cuts)
    {
        // Deliver the stream in chunks, parsing after each arrival exactly like the connection's read loop.
        var chunks = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts.Select(c => Math.Min(c, stream.Length)).Where(c => c > start).Distinct().Order())
        {
            chunks.Add(stream[start..cut]);
            start = cut;
        }

        chunks.Add(stream[start..]);
        var parsed = new List<RespValue>();
        var received = new List<byte[]>();
        long consumed = 0;
        foreach (var chunk in chunks)
        {
            received.Add(chunk);
            var buffer = RespGen.Sequence(received).Slice(consumed);
            var before = buffer.Length;
            while (RespParser.TryParse(ref buffer, out var value))
            {
                parsed.Add(value);
            }

            consumed += before - buffer.Length;
        }

        Assert.Equal(stream.Length, consumed);
        return parsed;
    }

    [Fact]
    public void Parser_gives_the_same_result_for_any_chunking_of_a_valid_stream()
    {
        var cases =
            from values in Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(RespGen.Value(3), n))
            let bytes = RespGen.Encode(values)
            from cuts in Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, Math.Max(0, bytes.Length)), n))
            select (values, bytes, cuts);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var whole = RespParser.ParseAll(new ReadOnlySequence<byte>(c.bytes));
            var chunked = ParseIncrementally(c.bytes, c.cuts);
            var byteByByte = ParseIncrementally(c.bytes, Enumerable.Range(1, Math.Min(c.bytes.Length, 300)).ToArray());
            return whole.Count == c.values.Length
                && whole.Zip(c.values).All(p => p.First.StructurallyEquals(p.Second))
                && chunked.Count == whole.Count && chunked.Zip(whole).All(p => p.First.StructurallyEquals(p.Second))
                && byteByByte.Count == whole.Count && byteByByte.Zip(whole).All(p => p.First.StructurallyEquals(p.Second));
        }).Check(PropertyConfig.Create(200));
    }

    [Fact]
    public void Random_garbage_throws_protocol_exception_or_parses_and_never_waits()
    {
        var garbage = Gen.Frequency(
            (3, RespGen.Bytes),
            (2, from marker in Gen.Elements((byte)'+', (byte)'-', (byte)':', (byte)'$', (byte)'*')
                from rest in RespGen.Bytes
                select (byte[])[marker, .. rest]));
        Prop.ForAll(garbage.ToArbitrary(), bytes =>
        {
            try
            {
                RespParser.ParseAll(new ReadOnlySequence<byte>(bytes));
                return true; // it happened to be valid RESP
            }
            catch (RedisProtocolException)
            {
                return true;
            }
        }).Check(PropertyConfig.Create(500));
    }

    [Fact]
    public void Bytes_that_do_not_start_a_reply_always_throw()
    {
        var garbage = from first in Gen.Choose(0, 255).Where(b => !"+-:$*"u8.Contains((byte)b))
                      from rest in RespGen.Bytes
                      select (byte[])[(byte)first, .. rest];
        Prop.ForAll(garbage.ToArbitrary(), bytes =>
        {
            var ex = Assert.Throws<RedisProtocolException>(() => RespParser.ParseAll(new ReadOnlySequence<byte>(bytes)));
            return ex.Message.Contains("not a RESP2 type", StringComparison.Ordinal);
        }).Check(PropertyConfig.Create(200));
    }

    [Fact]
    public void Every_strict_prefix_of_a_valid_stream_is_incomplete_and_then_truncated()
    {
        var cases = from value in RespGen.Value(3)
                    let bytes = RespGen.Encode([value])
                    from cut in Gen.Choose(1, bytes.Length - 1)
                    select (bytes, cut);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var buffer = new ReadOnlySequence<byte>(c.bytes, 0, c.cut);
            var incomplete = !RespParser.TryParse(ref buffer, out _) && buffer.Length == c.cut;
            var ex = Assert.Throws<RedisProtocolException>(() => RespParser.ParseAll(new ReadOnlySequence<byte>(c.bytes, 0, c.cut)));
            return incomplete && ex.Message.Contains("truncated", StringComparison.Ordinal);
        }).Check(PropertyConfig.Create(200));
    }

    [Theory]
    [InlineData("$5\r\nhello!!\r\n", "not followed by CRLF")]
    [InlineData("$-2\r\n", "invalid bulk string length")]
    [InlineData("*-5\r\n", "invalid array length")]
    [InlineData(":12a\r\n", "not a decimal integer")]
    [InlineData(":\r\n", "empty integer")]
    [InlineData(":99999999999999999999\r\n", "outside the 64-bit range")]
    [InlineData("+OK\rX", "CR without LF")]
    [InlineData("+O\nK\r\n", "bare LF")]
    [InlineData(":123456789012345678901234\r\n", "longer than")]
    [InlineData("$999999999999\r\n", "invalid bulk string length")]
    public void Malformed_replies_name_the_problem(string input, string expected)
    {
        var ex = Assert.Throws<RedisProtocolException>(() => RespParser.ParseAll(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(input))));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_rejected()
    {
        var input = string.Concat(Enumerable.Repeat("*1\r\n", 100)) + ":1\r\n";
        var ex = Assert.Throws<RedisProtocolException>(() => RespParser.ParseAll(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(input))));
        Assert.Contains("deeper than", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_accessors_convert_and_refuse_clearly()
    {
        var values = RespParser.ParseAll(new ReadOnlySequence<byte>("+OK\r\n:42\r\n$2\r\n17\r\n$-1\r\n*1\r\n$1\r\nx\r\n-ERR boom\r\n"u8.ToArray()));
        Assert.Equal("OK", values[0].AsString());
        Assert.Equal(42, values[1].AsInt64());
        Assert.Equal("42", values[1].AsString());
        Assert.Equal(17, values[2].AsInt64());
        Assert.True(values[3].IsNull);
        Assert.Null(values[3].AsString());
        Assert.Empty(values[3].Items);
        Assert.Equal("x", Assert.Single(values[4].Items).AsString());
        Assert.Equal(RespType.Error, values[5].Type);
        Assert.Equal("boom", Assert.Throws<RedisServerException>(() => values[5].AsInt64()).Message[4..]);
        Assert.Throws<InvalidOperationException>(() => values[0].AsInt64());
        Assert.Throws<InvalidOperationException>(() => values[4].AsString());
        Assert.Throws<InvalidOperationException>(() => values[1].Items);
    }
}
