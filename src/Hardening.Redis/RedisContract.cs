// CONTRACT SKELETON written by the lead so other packages can compile against Hardening.Redis while it is built.
// The Redis implementer replaces these bodies (and may split this file); signatures here are the agreed contract:
// add members freely, but do not remove or change these without telling the lead.
using Microsoft.Extensions.Logging;

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

/// <summary>Connection state reported by <see cref="RedisConnection.StateChanged"/>.</summary>
public enum RedisConnectionState
{
    /// <summary>Connecting or reconnecting.</summary>
    Connecting,

    /// <summary>Connected and ready.</summary>
    Connected,

    /// <summary>The socket is down; commands fail fast until a reconnect succeeds.</summary>
    Disconnected,

    /// <summary>Disposed; commands throw <see cref="ObjectDisposedException"/>.</summary>
    Disposed,
}

/// <summary>One argument of a Redis command: text (UTF-8), an integer or raw bytes, without boxing.</summary>
public readonly struct RedisArg
{
    /// <summary>Creates a text argument.</summary>
    public static implicit operator RedisArg(string value) => throw new NotImplementedException();

    /// <summary>Creates an integer argument.</summary>
    public static implicit operator RedisArg(long value) => throw new NotImplementedException();

    /// <summary>Creates a binary argument.</summary>
    public static implicit operator RedisArg(byte[] value) => throw new NotImplementedException();

    /// <summary>Creates a binary argument.</summary>
    public static implicit operator RedisArg(ReadOnlyMemory<byte> value) => throw new NotImplementedException();
}

/// <summary>A typed RESP reply.</summary>
public sealed class RespValue
{
    private RespValue()
    {
    }

    /// <summary>The reply's type.</summary>
    public RespType Type => throw new NotImplementedException();

    /// <summary>True for a null reply.</summary>
    public bool IsNull => Type == RespType.Null;

    /// <summary>The elements of an array reply.</summary>
    public IReadOnlyList<RespValue> Items => throw new NotImplementedException();

    /// <summary>The payload of a bulk string, simple string or error.</summary>
    public ReadOnlyMemory<byte> Bytes => throw new NotImplementedException();

    /// <summary>The reply as text (UTF-8), or null for a null reply.</summary>
    public string? AsString() => throw new NotImplementedException();

    /// <summary>The reply as an integer (an integer reply, or a bulk/simple string holding one).</summary>
    public long AsInt64() => throw new NotImplementedException();
}

/// <summary>A Lua script run by <c>EVALSHA</c>, loaded transparently when the server does not have it.</summary>
public sealed class RedisScript
{
    /// <summary>Creates a script from its Lua source.</summary>
    public RedisScript(string source) => throw new NotImplementedException();

    /// <summary>The Lua source.</summary>
    public string Source => throw new NotImplementedException();

    /// <summary>The SHA-1 of the source, as <c>SCRIPT LOAD</c> returns it.</summary>
    public string Sha1 => throw new NotImplementedException();
}

/// <summary>Condition and expiry of a <c>SET</c>.</summary>
public enum RedisSetCondition
{
    /// <summary>Always set.</summary>
    Always,

    /// <summary><c>NX</c>: only if the key does not exist.</summary>
    NotExists,

    /// <summary><c>XX</c>: only if the key exists.</summary>
    Exists,
}

/// <summary>A message received by a subscription.</summary>
/// <param name="Channel">The channel it was published on.</param>
/// <param name="Pattern">The pattern that matched (pattern subscriptions), else null.</param>
/// <param name="Payload">The message bytes.</param>
public readonly record struct RedisMessage(string Channel, string? Pattern, ReadOnlyMemory<byte> Payload);

/// <summary>An entry of a Redis stream.</summary>
/// <param name="Id">The entry id (<c>ms-seq</c>).</param>
/// <param name="Fields">Field/value pairs in order.</param>
public sealed record RedisStreamEntry(string Id, IReadOnlyList<KeyValuePair<string, byte[]>> Fields);

/// <summary>An active subscription; dispose to unsubscribe.</summary>
public sealed class RedisSubscription : IAsyncDisposable
{
    private RedisSubscription()
    {
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

/// <summary>Connection settings in StackExchange.Redis's connection-string format.</summary>
public sealed class RedisConnectionOptions
{
    /// <summary>Parses <c>host:port[,host2:port2],user=...,password=...,ssl=true,...</c>.</summary>
    public static RedisConnectionOptions Parse(string connectionString) => throw new NotImplementedException();
}

/// <summary>
/// One multiplexed, pipelined connection shared by many concurrent callers; reconnects on its own.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private RedisConnection()
    {
    }

    /// <summary>Raised when <see cref="State"/> changes.</summary>
    public event EventHandler<RedisConnectionState>? StateChanged { add => throw new NotImplementedException(); remove => throw new NotImplementedException(); }

    /// <summary>The current state.</summary>
    public RedisConnectionState State => throw new NotImplementedException();

    /// <summary>Connects (AUTH, SELECT, CLIENT SETNAME) and returns the ready connection.</summary>
    public static Task<RedisConnection> ConnectAsync(string connectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>Creates a connection that connects in the background (for DI singletons); commands wait up to the connect timeout.</summary>
    public static RedisConnection Create(RedisConnectionOptions options, ILoggerFactory? loggerFactory = null) => throw new NotImplementedException();

    /// <summary><c>PING</c>; returns the round-trip time.</summary>
    public Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary><c>GET</c>; null when the key does not exist.</summary>
    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary><c>SET</c> with an optional condition and expiry (<c>PX</c> for <paramref name="expiry"/>,
    /// <c>PXAT</c> for <paramref name="expiresAt"/>); false when the condition was not met.</summary>
    public Task<bool> SetAsync(string key, RedisArg value, RedisSetCondition condition = RedisSetCondition.Always, TimeSpan? expiry = null, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary><c>DEL</c>; the number of keys removed.</summary>
    public Task<long> DeleteAsync(string key, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary><c>INCRBY</c>.</summary>
    public Task<long> IncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary><c>PEXPIRE</c>; false when the key does not exist.</summary>
    public Task<bool> ExpireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary><c>TIME</c>: the server's clock.</summary>
    public Task<DateTimeOffset> TimeAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary><c>EVALSHA</c>, with a transparent <c>SCRIPT LOAD</c> on <c>NOSCRIPT</c>.</summary>
    public Task<RespValue> EvaluateAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary><c>XADD key [MAXLEN|MINID [=|~] threshold] id field value ...</c>; returns the entry id.</summary>
    public Task<string> StreamAddAsync(string key, string id, IReadOnlyList<KeyValuePair<string, RedisArg>> fields, long? maxLength = null, bool approximateTrim = true, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary><c>XRANGE key start end [COUNT n]</c>.</summary>
    public Task<IReadOnlyList<RedisStreamEntry>> StreamRangeAsync(string key, string start = "-", string end = "+", int? count = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary><c>XREVRANGE key end start [COUNT n]</c>.</summary>
    public Task<IReadOnlyList<RedisStreamEntry>> StreamReverseRangeAsync(string key, string end = "+", string start = "-", int? count = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary><c>XREAD [COUNT n] [BLOCK ms] STREAMS key id</c>, on a dedicated connection so that blocking never stalls other callers.</summary>
    public Task<IReadOnlyList<RedisStreamEntry>> StreamReadAsync(string key, string afterId, int? count = null, TimeSpan? block = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary><c>PUBLISH</c>; the number of receivers.</summary>
    public Task<long> PublishAsync(string channel, RedisArg message, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary><c>SUBSCRIBE</c> on the dedicated subscriber connection; resubscribed after reconnects.</summary>
    public Task<RedisSubscription> SubscribeAsync(string channel, Action<RedisMessage> handler, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary><c>PSUBSCRIBE</c> on the dedicated subscriber connection; resubscribed after reconnects.</summary>
    public Task<RedisSubscription> PatternSubscribeAsync(string pattern, Action<RedisMessage> handler, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>Any command; server errors throw <see cref="RedisServerException"/>.</summary>
    public Task<RespValue> ExecuteAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

/// <summary>Base class of every error this client raises.</summary>
public class RedisException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}

/// <summary>The connection could not be made or broke while the command was in flight (it was not resent).</summary>
public sealed class RedisConnectionException(string message, Exception? innerException = null) : RedisException(message, innerException);

/// <summary>The command did not complete within the command timeout (<c>syncTimeout</c>).</summary>
public sealed class RedisTimeoutException(string message, Exception? innerException = null) : RedisException(message, innerException);

/// <summary>The server answered with an error; <see cref="Exception.Message"/> is the server's text.</summary>
public sealed class RedisServerException(string message) : RedisException(message);

/// <summary>The server's reply was malformed or truncated; the connection was reset.</summary>
public sealed class RedisProtocolException(string message) : RedisException(message);
