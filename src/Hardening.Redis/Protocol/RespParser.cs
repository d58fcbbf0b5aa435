using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Hardening.Redis;

/// <summary>
/// A strict, incremental RESP2 reply parser: a complete reply is consumed, an incomplete one is left for more data,
/// and anything malformed throws <see cref="RedisProtocolException"/> (it never waits for bytes that cannot fix it).
/// </summary>
internal static class RespParser
{
    /// <summary>Redis's own proto-max-bulk-len default.</summary>
    public const long MaxBulkLength = 512L * 1024 * 1024;

    public const long MaxArrayLength = 64L * 1024 * 1024;

    public const int MaxDepth = 32;

    /// <summary>Longest simple-string or error line accepted.</summary>
    public const int MaxLineLength = 1024 * 1024;

    private const int MaxNumberLength = 20;

    /// <summary>Parses one reply from the start of <paramref name="buffer"/> and slices it off.</summary>
    /// <returns>False when the buffer holds only part of a reply (nothing is consumed).</returns>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out RespValue? value)
    {
        if (!TryParseReply(ref buffer, out var reply))
        {
            value = null;
            return false;
        }

        value = reply.ToValue();
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, but a scalar reply costs only its payload (the read loop uses this one).</summary>
    /// <returns>False when the buffer holds only part of a reply (nothing is consumed).</returns>
    public static bool TryParseReply(ref ReadOnlySequence<byte> buffer, out RespReply reply)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!TryRead(ref reader, 0, out reply))
        {
            reply = default;
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }

    /// <summary>Parses a whole stream of replies; a trailing partial reply is a truncation error.</summary>
    public static List<RespValue> ParseAll(ReadOnlySequence<byte> buffer)
    {
        var values = new List<RespValue>();
        while (!buffer.IsEmpty)
        {
            if (!TryParse(ref buffer, out var value))
            {
                throw Truncated(buffer.Length);
            }

            values.Add(value);
        }

        return values;
    }

    public static RedisProtocolException Truncated(long pending) =>
        new($"The Redis reply was truncated: the stream ended with {pending.ToString(CultureInfo.InvariantCulture)} byte(s) of an incomplete reply.");

    private static bool TryRead(ref SequenceReader<byte> reader, int depth, out RespReply value)
    {
        value = default;
        if (!reader.TryRead(out var marker))
        {
            return false;
        }

        switch (marker)
        {
            case (byte)'+':
            case (byte)'-':
            {
                if (!TryReadLine(ref reader, MaxLineLength, marker == '+' ? "simple string" : "error", out var line))
                {
                    return false;
                }

                value = marker == '+' ? RespReply.SimpleString(SimpleStringBytes(line)) : RespReply.Error(line.ToArray());
                return true;
            }

            case (byte)':':
            {
                if (!TryReadLine(ref reader, MaxNumberLength, "integer", out var line))
                {
                    return false;
                }

                value = RespReply.Integer(ParseInteger(line, "integer"));
                return true;
            }

            case (byte)'$':
            {
                if (!TryReadLine(ref reader, MaxNumberLength, "bulk length", out var line))
                {
                    return false;
                }

                var length = ParseInteger(line, "bulk length");
                if (length == -1)
                {
                    value = RespReply.Null;
                    return true;
                }

                if (length < -1 || length > MaxBulkLength)
                {
                    throw new RedisProtocolException($"The Redis reply has an invalid bulk string length {length.ToString(CultureInfo.InvariantCulture)} (expected -1 to {MaxBulkLength.ToString(CultureInfo.InvariantCulture)}).");
                }

                if (reader.Remaining < length + 2)
                {
                    return false;
                }

                var bytes = length == 0 ? [] : new byte[length];
                reader.TryCopyTo(bytes);
                reader.Advance(length);
                if (!reader.IsNext("\r\n"u8, advancePast: true))
                {
                    throw new RedisProtocolException("The Redis reply has a bulk string that is not followed by CRLF (its length does not match its payload).");
                }

                value = RespReply.BulkString(bytes);
                return true;
            }

            case (byte)'*':
            {
                if (!TryReadLine(ref reader, MaxNumberLength, "array length", out var line))
                {
                    return false;
                }

                var count = ParseInteger(line, "array length");
                if (count == -1)
                {
                    value = RespReply.Null;
                    return true;
                }

                if (count < -1 || count > MaxArrayLength)
                {
                    throw new RedisProtocolException($"The Redis reply has an invalid array length {count.ToString(CultureInfo.InvariantCulture)} (expected -1 to {MaxArrayLength.ToString(CultureInfo.InvariantCulture)}).");
                }

                if (count > 0 && depth >= MaxDepth)
                {
                    throw new RedisProtocolException($"The Redis reply nests arrays deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels.");
                }

                // Every element takes at least 3 bytes: wait for them before allocating (and before re-parsing).
                if (reader.Remaining < count * 3)
                {
                    // Still validate what is already there so garbage fails fast instead of waiting.
                    ValidatePrefix(reader, depth + 1, count);
                    return false;
                }

                var items = count == 0 ? [] : new RespValue[count];
                for (var i = 0; i < items.Length; i++)
                {
                    if (!TryRead(ref reader, depth + 1, out var item))
                    {
                        return false;
                    }

                    items[i] = item.ToValue();
                }

                value = RespReply.Array(RespValue.Array(items));
                return true;
            }

            default:
                throw new RedisProtocolException($"The Redis reply starts with byte 0x{marker:X2}, which is not a RESP2 type ('+', '-', ':', '$' or '*').");
        }
    }

    /// <summary>The line's bytes; the replies every caller sees (<c>OK</c>, <c>PONG</c>) share one array.</summary>
    private static byte[] SimpleStringBytes(in ReadOnlySequence<byte> line)
    {
        if (line.Length is 2 or 4)
        {
            Span<byte> text = stackalloc byte[4];
            line.CopyTo(text);
            text = text[..(int)line.Length];
            if (text.SequenceEqual("OK"u8))
            {
                return RespValue.OkBytes;
            }

            if (text.SequenceEqual("PONG"u8))
            {
                return RespValue.PongBytes;
            }
        }

        return line.ToArray();
    }

    private static void ValidatePrefix(SequenceReader<byte> reader, int depth, long count)
    {
        for (var i = 0; i < count; i++)
        {
            if (!TryRead(ref reader, depth, out _))
            {
                return;
            }
        }
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, int maxLength, string what, out ReadOnlySequence<byte> line)
    {
        if (!reader.TryReadTo(out line, (byte)'\r', advancePastDelimiter: false))
        {
            if (reader.Remaining > maxLength)
            {
                throw new RedisProtocolException($"The Redis reply has a {what} line longer than {maxLength.ToString(CultureInfo.InvariantCulture)} bytes without CRLF.");
            }

            if (reader.UnreadSpan.IndexOf((byte)'\n') >= 0 || (!reader.UnreadSequence.IsSingleSegment && reader.UnreadSequence.PositionOf((byte)'\n') is not null))
            {
                throw new RedisProtocolException($"The Redis reply has a {what} line with a bare LF.");
            }

            return false;
        }

        if (line.Length > maxLength)
        {
            throw new RedisProtocolException($"The Redis reply has a {what} line longer than {maxLength.ToString(CultureInfo.InvariantCulture)} bytes.");
        }

        if (line.PositionOf((byte)'\n') is not null)
        {
            throw new RedisProtocolException($"The Redis reply has a {what} line with a bare LF.");
        }

        if (reader.Remaining < 2)
        {
            return false;
        }

        reader.Advance(1);
        reader.TryRead(out var lf);
        if (lf != (byte)'\n')
        {
            throw new RedisProtocolException($"The Redis reply has a {what} line ending in CR without LF.");
        }

        return true;
    }

    private static long ParseInteger(ReadOnlySequence<byte> line, string what)
    {
        Span<byte> digits = stackalloc byte[MaxNumberLength];
        var length = (int)line.Length;
        line.CopyTo(digits);
        var span = digits[..length];
        var negative = span.Length > 0 && span[0] == (byte)'-';
        var start = negative ? 1 : 0;
        if (span.Length == start)
        {
            throw new RedisProtocolException($"The Redis reply has an empty {what}.");
        }

        ulong result = 0;
        for (var i = start; i < span.Length; i++)
        {
            var d = span[i] - (uint)'0';
            if (d > 9)
            {
                throw new RedisProtocolException($"The Redis reply has a {what} that is not a decimal integer.");
            }

            if (result > (ulong.MaxValue - d) / 10)
            {
                throw new RedisProtocolException($"The Redis reply has a {what} outside the 64-bit range.");
            }

            result = (result * 10) + d;
            if (result > (ulong)long.MaxValue + (negative ? 1UL : 0UL))
            {
                throw new RedisProtocolException($"The Redis reply has a {what} outside the 64-bit range.");
            }
        }

        return negative ? (long)(0 - result) : (long)result;
    }
}
