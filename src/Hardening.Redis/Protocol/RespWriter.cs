using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Hardening.Redis;

/// <summary>Writes RESP2 requests straight into the connection's pipe (no intermediate buffers).</summary>
internal static class RespWriter
{
    private const int MaxStackEncode = 512;

    public static void WriteArrayHeader(IBufferWriter<byte> writer, int count)
    {
        var span = writer.GetSpan(16);
        span[0] = (byte)'*';
        Utf8Formatter.TryFormat(count, span[1..], out var n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        writer.Advance(n + 3);
    }

    /// <summary>Writes a pre-encoded bulk string such as <c>$3\r\nGET\r\n</c>.</summary>
    public static void WriteRaw(IBufferWriter<byte> writer, ReadOnlySpan<byte> raw) => writer.Write(raw);

    public static void WriteInteger(IBufferWriter<byte> writer, long value)
    {
        var span = writer.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var n);
        writer.Advance(n);
    }

    public static void WriteBulk(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        WriteBulkHeader(writer, value.Length);
        writer.Write(value);
        writer.Write("\r\n"u8);
    }

    public static void WriteBulk(IBufferWriter<byte> writer, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var n);
        WriteBulk(writer, digits[..n]);
    }

    public static void WriteBulk(IBufferWriter<byte> writer, string value)
    {
        if (value.Length <= MaxStackEncode / 3)
        {
            Span<byte> bytes = stackalloc byte[MaxStackEncode];
            var n = Encoding.UTF8.GetBytes(value, bytes);
            WriteBulk(writer, bytes[..n]);
            return;
        }

        var count = Encoding.UTF8.GetByteCount(value);
        WriteBulkHeader(writer, count);
        var span = writer.GetSpan(count);
        if (span.Length >= count)
        {
            writer.Advance(Encoding.UTF8.GetBytes(value, span));
        }
        else
        {
            var rented = ArrayPool<byte>.Shared.Rent(count);
            try
            {
                var n = Encoding.UTF8.GetBytes(value, rented);
                writer.Write(rented.AsSpan(0, n));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        writer.Write("\r\n"u8);
    }

    public static void WriteBulk(IBufferWriter<byte> writer, in RedisArg arg)
    {
        switch (arg.Kind)
        {
            case RedisArg.ArgKind.Text:
                WriteBulk(writer, arg.Text);
                break;
            case RedisArg.ArgKind.Integer:
                WriteBulk(writer, arg.Integer);
                break;
            case RedisArg.ArgKind.Bytes:
                WriteBulk(writer, arg.Bytes.Span);
                break;
            default:
                throw new ArgumentNullException(nameof(arg), "A Redis argument is null.");
        }
    }

    /// <summary>A command name or keyword as a pre-encoded bulk string.</summary>
    public static byte[] Encode(string token)
    {
        var bytes = Encoding.ASCII.GetBytes(token);
        return Encoding.ASCII.GetBytes($"${bytes.Length}\r\n{token}\r\n");
    }

    private static void WriteBulkHeader(IBufferWriter<byte> writer, int length)
    {
        var span = writer.GetSpan(16);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(length, span[1..], out var n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        writer.Advance(n + 3);
    }
}
