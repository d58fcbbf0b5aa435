namespace Hardening.Redis;

/// <summary>One argument of a Redis command: text (UTF-8), an integer or raw bytes, without boxing.</summary>
/// <remarks>A <c>null</c> string or array, and <c>default(RedisArg)</c>, are rejected with
/// <see cref="ArgumentNullException"/> by the command they are passed to.</remarks>
public readonly struct RedisArg
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _integer;
    private readonly ArgKind _kind;

    private RedisArg(string? text, ReadOnlyMemory<byte> bytes, long integer, ArgKind kind)
    {
        _text = text;
        _bytes = bytes;
        _integer = integer;
        _kind = kind;
    }

    internal enum ArgKind : byte
    {
        None,
        Text,
        Integer,
        Bytes,
    }

    internal ArgKind Kind => _kind;

    internal bool IsNull => _kind == ArgKind.None;

    internal string Text => _text!;

    internal long Integer => _integer;

    internal ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>Creates a text argument.</summary>
    public static implicit operator RedisArg(string value) =>
        value is null ? default : new RedisArg(value, default, 0, ArgKind.Text);

    /// <summary>Creates an integer argument.</summary>
    public static implicit operator RedisArg(long value) => new(null, default, value, ArgKind.Integer);

    /// <summary>Creates a binary argument.</summary>
    public static implicit operator RedisArg(byte[] value) =>
        value is null ? default : new RedisArg(null, value, 0, ArgKind.Bytes);

    /// <summary>Creates a binary argument.</summary>
    public static implicit operator RedisArg(ReadOnlyMemory<byte> value) => new(null, value, 0, ArgKind.Bytes);

    /// <summary>Creates a text argument.</summary>
    /// <param name="value">The text, sent as UTF-8.</param>
    /// <returns>The argument.</returns>
    public static RedisArg FromString(string value) => value;

    /// <summary>Creates an integer argument.</summary>
    /// <param name="value">The integer, sent as decimal text.</param>
    /// <returns>The argument.</returns>
    public static RedisArg FromInt64(long value) => value;

    /// <summary>Creates a binary argument.</summary>
    /// <param name="value">The bytes, sent as they are.</param>
    /// <returns>The argument.</returns>
    public static RedisArg FromBytes(ReadOnlyMemory<byte> value) => value;

    /// <inheritdoc />
    public override string ToString() => _kind switch
    {
        ArgKind.Text => _text!,
        ArgKind.Integer => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ArgKind.Bytes => $"<{_bytes.Length} bytes>",
        _ => "<null>",
    };

    internal static void ThrowIfNull(in RedisArg arg, string paramName)
    {
        if (arg.IsNull)
        {
            throw new ArgumentNullException(paramName, $"The Redis argument '{paramName}' is null; pass a string, integer or byte array.");
        }
    }
}
