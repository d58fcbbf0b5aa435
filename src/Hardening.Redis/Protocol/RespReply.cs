using System.Globalization;
using System.Text;

namespace Hardening.Redis;

/// <summary>
/// A top-level reply as it travels from the reader to the awaiting command: a struct, so a scalar reply (a bulk
/// string, an integer, <c>OK</c>) costs no more than its payload. Arrays keep their <see cref="RespValue"/>.
/// </summary>
internal readonly struct RespReply
{
    // byte[] for bulk strings, simple strings and errors; RespValue for arrays; null otherwise.
    private readonly object? _payload;
    private readonly long _integer;

    private RespReply(RespType type, object? payload, long integer)
    {
        Type = type;
        _payload = payload;
        _integer = integer;
    }

    public static RespReply Null => new(RespType.Null, null, 0);

    public RespType Type { get; }

    public bool IsNull => Type == RespType.Null;

    public bool IsError => Type == RespType.Error;

    /// <summary>The elements of an array reply (empty for null).</summary>
    public IReadOnlyList<RespValue> Items => ToValue().Items;

    public static RespReply SimpleString(byte[] bytes) => new(RespType.SimpleString, bytes, 0);

    public static RespReply Error(byte[] bytes) => new(RespType.Error, bytes, 0);

    public static RespReply Integer(long value) => new(RespType.Integer, null, value);

    public static RespReply BulkString(byte[] bytes) => new(RespType.BulkString, bytes, 0);

    public static RespReply Array(RespValue array) => new(RespType.Array, array, 0);

    /// <summary>The public form; allocates only for a scalar that <see cref="RespValue"/> does not cache.</summary>
    public RespValue ToValue() => Type switch
    {
        RespType.Array => (RespValue)_payload!,
        RespType.Null => RespValue.Null,
        RespType.Integer => RespValue.Integer(_integer),
        RespType.BulkString => RespValue.BulkString((byte[])_payload!),
        RespType.SimpleString => RespValue.SimpleString((byte[])_payload!),
        _ => RespValue.Error((byte[])_payload!),
    };

    /// <summary>The payload of a string or error reply without copying (the reply owns it); null for null.</summary>
    public byte[]? ToByteArray() => Type switch
    {
        RespType.Null => null,
        RespType.BulkString or RespType.SimpleString or RespType.Error => (byte[])_payload!,
        _ => ToValue().ToByteArray(),
    };

    public long AsInt64() => Type == RespType.Integer ? _integer : ToValue().AsInt64();

    public string? AsString() => Type switch
    {
        RespType.Null => null,
        RespType.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RespType.BulkString or RespType.SimpleString or RespType.Error => Encoding.UTF8.GetString((byte[])_payload!),
        _ => ToValue().AsString(),
    };

    public bool PayloadStartsWith(ReadOnlySpan<byte> text) => _payload is byte[] bytes && bytes.AsSpan().StartsWith(text);

    public string Describe() => ToValue().Describe();
}
