namespace Hardening.Redis;

/// <summary>The type of a RESP reply.</summary>
public enum RespType
{
    /// <summary>A simple string such as <c>+OK</c>.</summary>
    SimpleString,

    /// <summary>An error reply (surfaced as <see cref="RedisServerException"/> by typed commands).</summary>
    Error,

    /// <summary>An integer reply.</summary>
    Integer,

    /// <summary>A bulk (binary-safe) string.</summary>
    BulkString,

    /// <summary>An array of replies.</summary>
    Array,

    /// <summary>A null bulk string or null array.</summary>
    Null,
}
