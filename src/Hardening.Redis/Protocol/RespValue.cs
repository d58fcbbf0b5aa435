using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Hardening.Redis;

/// <summary>A typed RESP reply.</summary>
public sealed class RespValue
{
    private static readonly RespValue[] SmallIntegers = CreateSmallIntegers();
    private readonly RespType _type;
    private readonly byte[]? _bytes;
    private readonly long _integer;
    private readonly RespValue[]? _items;

    private RespValue(RespType type, byte[]? bytes, long integer, RespValue[]? items)
    {
        _type = type;
        _bytes = bytes;
        _integer = integer;
        _items = items;
    }

    /// <summary>The reply's type.</summary>
    public RespType Type => _type;

    /// <summary>True for a null reply.</summary>
    public bool IsNull => Type == RespType.Null;

    /// <summary>The elements of an array reply (empty for a null reply).</summary>
    /// <exception cref="InvalidOperationException">The reply is not an array.</exception>
    public IReadOnlyList<RespValue> Items => _type switch
    {
        RespType.Array => _items!,
        RespType.Null => System.Array.Empty<RespValue>(),
        _ => throw new InvalidOperationException($"The Redis reply is {Describe()}, not an array."),
    };

    /// <summary>The payload of a bulk string, simple string or error; an integer as its decimal text; empty for null.</summary>
    /// <exception cref="InvalidOperationException">The reply is an array.</exception>
    public ReadOnlyMemory<byte> Bytes => _type switch
    {
        RespType.Integer => Encoding.ASCII.GetBytes(_integer.ToString(CultureInfo.InvariantCulture)),
        RespType.Null => ReadOnlyMemory<byte>.Empty,
        RespType.Array => throw new InvalidOperationException("The Redis reply is an array, which has no single payload; use Items."),
        _ => _bytes,
    };

    internal static RespValue Null { get; } = new(RespType.Null, null, 0, null);

    /// <summary>The payload of <c>+OK</c>, shared: never hand it to a caller that could change it.</summary>
    internal static byte[] OkBytes { get; } = "OK"u8.ToArray();

    /// <summary>The payload of <c>+PONG</c>, shared like <see cref="OkBytes"/>.</summary>
    internal static byte[] PongBytes { get; } = "PONG"u8.ToArray();

    internal static RespValue Ok { get; } = new(RespType.SimpleString, OkBytes, 0, null);

    internal static RespValue Pong { get; } = new(RespType.SimpleString, PongBytes, 0, null);

    internal static RespValue EmptyBulk { get; } = new(RespType.BulkString, System.Array.Empty<byte>(), 0, null);

    internal static RespValue EmptyArray { get; } = new(RespType.Array, null, 0, System.Array.Empty<RespValue>());

    internal bool IsError => _type == RespType.Error;

    /// <summary>The reply as text (UTF-8), or null for a null reply.</summary>
    /// <exception cref="InvalidOperationException">The reply is an array.</exception>
    public string? AsString() => _type switch
    {
        RespType.Null => null,
        RespType.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RespType.Array => throw new InvalidOperationException("The Redis reply is an array, not a string; use Items."),
        _ => Encoding.UTF8.GetString(_bytes!),
    };

    /// <summary>The reply as an integer (an integer reply, or a bulk/simple string holding one).</summary>
    /// <exception cref="RedisServerException">The reply is an error.</exception>
    /// <exception cref="InvalidOperationException">The reply is null, an array or text that is not an integer.</exception>
    public long AsInt64()
    {
        switch (_type)
        {
            case RespType.Integer:
                return _integer;
            case RespType.Error:
                throw new RedisServerException(Encoding.UTF8.GetString(_bytes!));
            case RespType.BulkString or RespType.SimpleString:
                if (Utf8Parser.TryParse(_bytes, out long value, out var consumed) && consumed == _bytes!.Length)
                {
                    return value;
                }

                throw new InvalidOperationException($"The Redis reply '{Truncate(Encoding.UTF8.GetString(_bytes!))}' is not an integer.");
            default:
                throw new InvalidOperationException($"The Redis reply is {Describe()}, not an integer.");
        }
    }

    /// <summary>A short RESP-like rendering for diagnostics, e.g. <c>$5 hello</c>, <c>:42</c>, <c>*2 [...]</c>.</summary>
    /// <returns>The rendering.</returns>
    public override string ToString() => _type switch
    {
        RespType.SimpleString => "+" + Encoding.UTF8.GetString(_bytes!),
        RespType.Error => "-" + Encoding.UTF8.GetString(_bytes!),
        RespType.Integer => ":" + _integer.ToString(CultureInfo.InvariantCulture),
        RespType.BulkString => "$" + _bytes!.Length.ToString(CultureInfo.InvariantCulture) + " " + Truncate(Encoding.UTF8.GetString(_bytes!)),
        RespType.Null => "(nil)",
        _ => "*" + _items!.Length.ToString(CultureInfo.InvariantCulture) + " [" + string.Join(", ", _items.Select(i => i.ToString())) + "]",
    };

    internal static RespValue SimpleString(byte[] bytes) =>
        bytes == OkBytes || bytes.AsSpan().SequenceEqual("OK"u8) ? Ok : bytes == PongBytes || bytes.AsSpan().SequenceEqual("PONG"u8) ? Pong : new(RespType.SimpleString, bytes, 0, null);

    internal static RespValue Error(byte[] bytes) => new(RespType.Error, bytes, 0, null);

    internal static RespValue Integer(long value) =>
        (ulong)(value + 1) < (ulong)SmallIntegers.Length ? SmallIntegers[value + 1] : new(RespType.Integer, null, value, null);

    internal static RespValue BulkString(byte[] bytes) => bytes.Length == 0 ? EmptyBulk : new(RespType.BulkString, bytes, 0, null);

    internal static RespValue Array(RespValue[] items) => items.Length == 0 ? EmptyArray : new(RespType.Array, null, 0, items);

    /// <summary>The payload as an array without copying when the reply owns an exact-size buffer.</summary>
    internal byte[]? ToByteArray() => _type switch
    {
        RespType.Null => null,
        RespType.BulkString or RespType.SimpleString or RespType.Error => _bytes!,
        _ => Bytes.ToArray(),
    };

    internal bool PayloadEquals(ReadOnlySpan<byte> text) => _bytes is not null && _bytes.AsSpan().SequenceEqual(text);

    internal bool PayloadStartsWith(ReadOnlySpan<byte> text) => _bytes is not null && _bytes.AsSpan().StartsWith(text);

    /// <summary>Writes this value back as RESP (used by tests and diagnostics).</summary>
    internal void WriteTo(IBufferWriter<byte> writer)
    {
        switch (_type)
        {
            case RespType.SimpleString:
                writer.Write("+"u8);
                writer.Write(_bytes);
                writer.Write("\r\n"u8);
                break;
            case RespType.Error:
                writer.Write("-"u8);
                writer.Write(_bytes);
                writer.Write("\r\n"u8);
                break;
            case RespType.Integer:
                writer.Write(":"u8);
                RespWriter.WriteInteger(writer, _integer);
                writer.Write("\r\n"u8);
                break;
            case RespType.BulkString:
                RespWriter.WriteBulk(writer, _bytes);
                break;
            case RespType.Null:
                writer.Write("$-1\r\n"u8);
                break;
            default:
                RespWriter.WriteArrayHeader(writer, _items!.Length);
                foreach (var item in _items)
                {
                    item.WriteTo(writer);
                }

                break;
        }
    }

    /// <summary>Structural equality (tests).</summary>
    internal bool StructurallyEquals(RespValue other)
    {
        if (_type != other._type)
        {
            return false;
        }

        return _type switch
        {
            RespType.Integer => _integer == other._integer,
            RespType.Null => true,
            RespType.Array => _items!.Length == other._items!.Length && _items.Zip(other._items).All(p => p.First.StructurallyEquals(p.Second)),
            _ => _bytes.AsSpan().SequenceEqual(other._bytes),
        };
    }

    internal string Describe() => _type switch
    {
        RespType.Error => $"an error ('{Truncate(Encoding.UTF8.GetString(_bytes!))}')",
        RespType.Null => "null",
        RespType.Array => $"an array of {_items!.Length}",
        RespType.Integer => "an integer",
        RespType.SimpleString => $"the simple string '{Truncate(Encoding.UTF8.GetString(_bytes!))}'",
        _ => "a bulk string",
    };

    private static string Truncate(string s) => s.Length <= 64 ? s : string.Concat(s.AsSpan(0, 64), "...");

    private static RespValue[] CreateSmallIntegers()
    {
        var values = new RespValue[258];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = new RespValue(RespType.Integer, null, i - 1, null);
        }

        return values;
    }
}
