using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hardening.Redis;

/// <summary>
/// One multiplexed, pipelined connection shared by many concurrent callers; reconnects on its own.
/// </summary>
/// <remarks>
/// Commands from all callers are pipelined on one socket and replies are matched in order. When the socket dies,
/// commands in flight fail with <see cref="RedisConnectionException"/> (they are never resent: the server may or may
/// not have run them) and the connection reconnects in the background with exponential backoff and jitter.
/// Blocking reads (<see cref="StreamReadAsync"/> with a block time) and subscriptions use dedicated connections.
/// <para>
/// Command methods return <see cref="ValueTask{TResult}"/> and allocate nothing beyond their reply (the
/// <c>byte[]</c> of a <c>GET</c>; a <c>SET</c> allocates nothing): the state behind the task is pooled and reused as
/// soon as it has been awaited. So await each one exactly once, and never block on it (<c>.GetAwaiter().GetResult()</c>,
/// <c>.Result</c>). To keep one for later, await it more than once, combine several
/// (<see cref="Task.WhenAll(Task[])"/>) or block, call <see cref="ValueTask{TResult}.AsTask"/> first.
/// <see cref="ConnectAsync(string, ILoggerFactory?, CancellationToken)"/>, <see cref="CheckHealthAsync"/> and the
/// subscribe methods, which are not on a hot path, return <see cref="Task{TResult}"/>.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// await using var redis = await RedisConnection.ConnectAsync("localhost:6379,name=ats");
/// await redis.SetAsync("jti:abc", "1", RedisSetCondition.NotExists, expiry: TimeSpan.FromMinutes(5));
/// byte[]? value = await redis.GetAsync("jti:abc");
/// </code>
/// </example>
public sealed class RedisConnection : IAsyncDisposable
{
    private static readonly HashSet<string> Rejected = new(StringComparer.OrdinalIgnoreCase)
    {
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR", "QUIT", "RESET",
        "SELECT", "AUTH", "HELLO", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SYNC", "PSYNC",
    };

    private static readonly HashSet<string> Blocking = new(StringComparer.OrdinalIgnoreCase)
    {
        "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF",
    };

    private readonly RedisConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly ManagedConnection _interactive;
    private readonly Lazy<Subscriber> _subscriber;
    private readonly BlockingConnectionPool _blocking;
    private readonly Timer _heartbeat;
    private EventHandler<RedisConnectionState>? _stateChanged;
    private EventHandler<RedisConnectionState>? _subscriberStateChanged;

    private RedisConnection(RedisConnectionOptions options, ILoggerFactory? loggerFactory)
    {
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Hardening.Redis");
        _interactive = new ManagedConnection(options, _logger, "interactive");
        _interactive.StateChanged += state => _stateChanged?.Invoke(this, state);
        _subscriber = new Lazy<Subscriber>(
            () =>
            {
                var subscriber = new Subscriber(_options, _logger);
                subscriber.Connection.StateChanged += state => _subscriberStateChanged?.Invoke(this, state);
                return subscriber;
            },
            LazyThreadSafetyMode.ExecutionAndPublication);
        _blocking = new BlockingConnectionPool(options);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.SyncTimeout.TotalMilliseconds / 10, 20, 1000));
        _heartbeat = new Timer(static s => ((RedisConnection)s!).OnHeartbeat(), this, period, period);
    }

    /// <summary>Raised when <see cref="State"/> changes (on a background thread; keep handlers short).</summary>
    public event EventHandler<RedisConnectionState>? StateChanged
    {
        add => _stateChanged += value;
        remove => _stateChanged -= value;
    }

    /// <summary>
    /// Raised when the dedicated subscriber connection (created by the first subscribe) changes state, on a background
    /// thread. <see cref="RedisConnectionState.Connected"/> after <see cref="RedisConnectionState.Disconnected"/> means
    /// every subscription has been re-sent and acknowledged: messages published in between were missed, so a reader
    /// that must not miss any should catch up from its source of truth (a stream, a table) when it sees it.
    /// </summary>
    public event EventHandler<RedisConnectionState>? SubscriberStateChanged
    {
        add => _subscriberStateChanged += value;
        remove => _subscriberStateChanged -= value;
    }

    /// <summary>The current state.</summary>
    public RedisConnectionState State => _interactive.State;

    /// <summary>Connects (AUTH, SELECT, CLIENT SETNAME) and returns the ready connection.</summary>
    /// <param name="connectionString">StackExchange.Redis-style connection string, see <see cref="RedisConnectionOptions.Parse"/>.</param>
    /// <param name="loggerFactory">Optional logging.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="ArgumentException">The connection string is invalid; the message names the option.</exception>
    /// <exception cref="RedisConnectionException">The first connect failed and <c>abortConnect</c> is true (the default).</exception>
    public static Task<RedisConnection> ConnectAsync(string connectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisConnectionOptions.Parse(connectionString), loggerFactory, cancellationToken);

    /// <summary>Connects (AUTH, SELECT, CLIENT SETNAME) and returns the ready connection.</summary>
    /// <param name="options">The settings (copied; later changes have no effect).</param>
    /// <param name="loggerFactory">Optional logging.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="RedisConnectionException">The first connect failed and <see cref="RedisConnectionOptions.AbortConnect"/> is true.</exception>
    public static async Task<RedisConnection> ConnectAsync(RedisConnectionOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var connection = Create(options, loggerFactory);
        try
        {
            await connection._interactive.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException) when (!connection._options.AbortConnect)
        {
            // abortConnect=false: hand back a connection that keeps retrying.
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    /// <summary>Creates a connection that connects in the background (for DI singletons); commands wait up to the connect timeout.</summary>
    /// <param name="options">The settings (copied; later changes have no effect).</param>
    /// <param name="loggerFactory">Optional logging.</param>
    /// <returns>The connection, already connecting.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names the setting.</exception>
    public static RedisConnection Create(RedisConnectionOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var connection = new RedisConnection(options.Clone(), loggerFactory);
        connection._interactive.Start();
        return connection;
    }

    /// <summary><c>PING</c>; returns the round-trip time.</summary>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The round-trip time.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        var reply = await SendAsync(0, static (w, _) =>
        {
            RespWriter.WriteArrayHeader(w, 1);
            w.Write(Cmd.Ping);
        }, cancellationToken).ConfigureAwait(false);
        Expect(reply, RespType.SimpleString, "PING");
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Pings the server and reports the state, for health checks; never throws for Redis errors.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The health.</returns>
    public async Task<RedisHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var rtt = await PingAsync(cancellationToken).ConfigureAwait(false);
            return new RedisHealth(true, State, rtt, null);
        }
        catch (RedisException ex)
        {
            return new RedisHealth(false, State, null, ex.Message);
        }
        catch (ObjectDisposedException ex)
        {
            return new RedisHealth(false, RedisConnectionState.Disposed, null, ex.Message);
        }
    }

    /// <summary><c>GET</c>; null when the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The value, or null.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var reply = await SendAsync(key, static (w, k) =>
        {
            RespWriter.WriteArrayHeader(w, 2);
            w.Write(Cmd.Get);
            RespWriter.WriteBulk(w, k);
        }, cancellationToken).ConfigureAwait(false);
        return reply.Type switch
        {
            RespType.BulkString or RespType.Null => reply.ToByteArray(),
            _ => throw Unexpected(reply, "GET"),
        };
    }

    /// <summary><c>SET</c> with an optional condition and expiry (<c>PX</c> for <paramref name="expiry"/>,
    /// <c>PXAT</c> for <paramref name="expiresAt"/>); false when the condition was not met.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="condition"><c>NX</c>, <c>XX</c> or none.</param>
    /// <param name="expiry">Time to live (<c>PX</c>), positive; or null.</param>
    /// <param name="expiresAt">Absolute expiry (<c>PXAT</c>); or null. Not together with <paramref name="expiry"/>.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>True when set.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> SetAsync(string key, RedisArg value, RedisSetCondition condition = RedisSetCondition.Always, TimeSpan? expiry = null, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        var args = SetArgs.Create(key, value, condition, expiry, expiresAt, keepTtl: false, get: false);
        var reply = await SendAsync(args, SetArgs.Write, cancellationToken).ConfigureAwait(false);
        return reply.Type switch
        {
            RespType.SimpleString => true,
            RespType.Null => false,
            _ => throw Unexpected(reply, "SET"),
        };
    }

    /// <summary><c>SET key value [NX|XX] KEEPTTL</c> when <paramref name="keepTtl"/> is true: sets the value and keeps the key's time to live.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="condition"><c>NX</c>, <c>XX</c> or none.</param>
    /// <param name="keepTtl">Send <c>KEEPTTL</c>.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>True when set.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> SetAsync(string key, RedisArg value, RedisSetCondition condition, bool keepTtl, CancellationToken cancellationToken = default)
    {
        var args = SetArgs.Create(key, value, condition, null, null, keepTtl, get: false);
        var reply = await SendAsync(args, SetArgs.Write, cancellationToken).ConfigureAwait(false);
        return reply.Type switch
        {
            RespType.SimpleString => true,
            RespType.Null => false,
            _ => throw Unexpected(reply, "SET"),
        };
    }

    /// <summary><c>SET ... GET</c>: sets the value and returns the previous one (null when there was none).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="condition"><c>NX</c>, <c>XX</c> or none (with <c>NX</c>, needs Redis 7).</param>
    /// <param name="expiry">Time to live (<c>PX</c>), or null.</param>
    /// <param name="expiresAt">Absolute expiry (<c>PXAT</c>), or null.</param>
    /// <param name="keepTtl">Send <c>KEEPTTL</c> (not with an expiry).</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The previous value, or null.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<byte[]?> SetAndGetAsync(string key, RedisArg value, RedisSetCondition condition = RedisSetCondition.Always, TimeSpan? expiry = null, DateTimeOffset? expiresAt = null, bool keepTtl = false, CancellationToken cancellationToken = default)
    {
        var args = SetArgs.Create(key, value, condition, expiry, expiresAt, keepTtl, get: true);
        var reply = await SendAsync(args, SetArgs.Write, cancellationToken).ConfigureAwait(false);
        return reply.Type switch
        {
            RespType.BulkString or RespType.Null => reply.ToByteArray(),
            _ => throw Unexpected(reply, "SET GET"),
        };
    }

    /// <summary><c>DEL</c>; the number of keys removed.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>1 when removed, 0 when it did not exist.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<long> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var reply = await SendAsync(key, static (w, k) =>
        {
            RespWriter.WriteArrayHeader(w, 2);
            w.Write(Cmd.Del);
            RespWriter.WriteBulk(w, k);
        }, cancellationToken).ConfigureAwait(false);
        return Expect(reply, RespType.Integer, "DEL").AsInt64();
    }

    /// <summary><c>INCRBY</c>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="by">The increment (may be negative).</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The new value.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<long> IncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var reply = await SendAsync((key, by), static (w, s) =>
        {
            RespWriter.WriteArrayHeader(w, 3);
            w.Write(Cmd.IncrBy);
            RespWriter.WriteBulk(w, s.key);
            RespWriter.WriteBulk(w, s.by);
        }, cancellationToken).ConfigureAwait(false);
        return Expect(reply, RespType.Integer, "INCRBY").AsInt64();
    }

    /// <summary><c>PEXPIRE</c>; false when the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ttl">Time to live, at least 1 ms.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>True when the expiry was set.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ExpireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var ms = ToPositiveMilliseconds(ttl, nameof(ttl));
        var reply = await SendAsync((key, ms), static (w, s) =>
        {
            RespWriter.WriteArrayHeader(w, 3);
            w.Write(Cmd.PExpire);
            RespWriter.WriteBulk(w, s.key);
            RespWriter.WriteBulk(w, s.ms);
        }, cancellationToken).ConfigureAwait(false);
        return Expect(reply, RespType.Integer, "PEXPIRE").AsInt64() == 1;
    }

    /// <summary><c>TIME</c>: the server's clock.</summary>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The server's time (microsecond precision).</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<DateTimeOffset> TimeAsync(CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(0, static (w, _) =>
        {
            RespWriter.WriteArrayHeader(w, 1);
            w.Write(Cmd.Time);
        }, cancellationToken).ConfigureAwait(false);
        Expect(reply, RespType.Array, "TIME");
        if (reply.Items.Count != 2)
        {
            throw Unexpected(reply, "TIME");
        }

        return DateTimeOffset.FromUnixTimeSeconds(reply.Items[0].AsInt64()).AddTicks(reply.Items[1].AsInt64() * 10);
    }

    /// <summary><c>EVALSHA</c>, with a transparent <c>SCRIPT LOAD</c> on <c>NOSCRIPT</c>.</summary>
    /// <param name="script">The script.</param>
    /// <param name="keys">The keys (<c>KEYS</c> in Lua); none may be null.</param>
    /// <param name="args">The arguments (<c>ARGV</c> in Lua); none may be null.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The script's reply; a Lua error throws <see cref="RedisServerException"/>.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<RespValue> EvaluateAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(args);
        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"Key {i} of the script's keys is null.");
            }
        }

        for (var i = 0; i < args.Count; i++)
        {
            RedisArg.ThrowIfNull(args[i], $"{nameof(args)}[{i}]");
        }

        var state = (script, keys, args);
        var reply = await SendAsync(state, WriteEvalSha, cancellationToken).ConfigureAwait(false);
        if (reply.IsError && reply.PayloadStartsWith("NOSCRIPT"u8))
        {
            var loaded = await SendAsync(script.Source, static (w, source) =>
            {
                RespWriter.WriteArrayHeader(w, 3);
                w.Write(Cmd.Script);
                w.Write(Cmd.Load);
                RespWriter.WriteBulk(w, source);
            }, cancellationToken).ConfigureAwait(false);
            ThrowIfError(loaded);
            reply = await SendAsync(state, WriteEvalSha, cancellationToken).ConfigureAwait(false);
        }

        return ThrowIfError(reply).ToValue();
    }

    /// <summary><c>XADD key [MAXLEN|MINID [=|~] threshold] id field value ...</c>; returns the entry id.</summary>
    /// <param name="key">The stream key.</param>
    /// <param name="id">The entry id, usually <c>*</c>.</param>
    /// <param name="fields">At least one field/value pair.</param>
    /// <param name="maxLength">Trim to this many entries (<c>MAXLEN</c>), or null.</param>
    /// <param name="approximateTrim">Use <c>~</c> rather than <c>=</c>.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The new entry's id.</returns>
    public ValueTask<string> StreamAddAsync(string key, string id, IReadOnlyList<KeyValuePair<string, RedisArg>> fields, long? maxLength = null, bool approximateTrim = true, CancellationToken cancellationToken = default) =>
        StreamAddAsync(key, id, fields, maxLength is { } max ? RedisStreamTrim.ToMaxLength(max, approximateTrim) : null, cancellationToken);

    /// <summary><c>XADD key [MAXLEN|MINID [=|~] threshold] id field value ...</c>; returns the entry id.</summary>
    /// <param name="key">The stream key.</param>
    /// <param name="id">The entry id, usually <c>*</c>.</param>
    /// <param name="fields">At least one field/value pair.</param>
    /// <param name="trim">How to trim, or null for no trimming.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The new entry's id.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<string> StreamAddAsync(string key, string id, IReadOnlyList<KeyValuePair<string, RedisArg>> fields, RedisStreamTrim? trim, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            throw new ArgumentException("XADD needs at least one field/value pair.", nameof(fields));
        }

        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i].Key is null)
            {
                throw new ArgumentNullException(nameof(fields), $"The name of field {i} is null.");
            }

            RedisArg.ThrowIfNull(fields[i].Value, $"{nameof(fields)}[{i}]");
        }

        var reply = await SendAsync((key, id, fields, trim), static (w, s) =>
        {
            var trimArgs = s.trim is null ? 0 : 3;
            RespWriter.WriteArrayHeader(w, 3 + trimArgs + (2 * s.fields.Count));
            w.Write(Cmd.XAdd);
            RespWriter.WriteBulk(w, s.key);
            if (s.trim is { } t)
            {
                w.Write(t.MaxLength is null ? Cmd.MinId : Cmd.MaxLen);
                w.Write(t.Approximate ? Cmd.Approximate : Cmd.Exact);
                if (t.MaxLength is { } max)
                {
                    RespWriter.WriteBulk(w, max);
                }
                else
                {
                    RespWriter.WriteBulk(w, t.MinId!);
                }
            }

            RespWriter.WriteBulk(w, s.id);
            for (var i = 0; i < s.fields.Count; i++)
            {
                RespWriter.WriteBulk(w, s.fields[i].Key);
                RespWriter.WriteBulk(w, s.fields[i].Value);
            }
        }, cancellationToken).ConfigureAwait(false);
        return Expect(reply, RespType.BulkString, "XADD").AsString()!;
    }

    /// <summary><c>XRANGE key start end [COUNT n]</c>.</summary>
    /// <param name="key">The stream key.</param>
    /// <param name="start">Lowest id (inclusive; <c>(</c> prefix for exclusive), default <c>-</c>.</param>
    /// <param name="end">Highest id, default <c>+</c>.</param>
    /// <param name="count">At most this many entries, or null.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The entries, oldest first.</returns>
    public ValueTask<IReadOnlyList<RedisStreamEntry>> StreamRangeAsync(string key, string start = "-", string end = "+", int? count = null, CancellationToken cancellationToken = default) =>
        RangeAsync(Cmd.XRange, "XRANGE", key, start, end, count, cancellationToken);

    /// <summary><c>XREVRANGE key end start [COUNT n]</c>.</summary>
    /// <param name="key">The stream key.</param>
    /// <param name="end">Highest id, default <c>+</c>.</param>
    /// <param name="start">Lowest id, default <c>-</c>.</param>
    /// <param name="count">At most this many entries, or null.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The entries, newest first.</returns>
    public ValueTask<IReadOnlyList<RedisStreamEntry>> StreamReverseRangeAsync(string key, string end = "+", string start = "-", int? count = null, CancellationToken cancellationToken = default) =>
        RangeAsync(Cmd.XRevRange, "XREVRANGE", key, end, start, count, cancellationToken);

    /// <summary><c>XREAD [COUNT n] [BLOCK ms] STREAMS key id</c>, on a dedicated connection so that blocking never stalls other callers.</summary>
    /// <param name="key">The stream key.</param>
    /// <param name="afterId">Return entries after this id (<c>$</c> for only new ones).</param>
    /// <param name="count">At most this many entries, or null.</param>
    /// <param name="block">Wait up to this long for entries (<see cref="TimeSpan.Zero"/> waits forever); null does not block.</param>
    /// <param name="cancellationToken">Stops waiting (the dedicated connection is then closed).</param>
    /// <returns>The entries; empty when the block time passed without any.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<IReadOnlyList<RedisStreamEntry>> StreamReadAsync(string key, string afterId, int? count = null, TimeSpan? block = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(afterId);
        if (count is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "COUNT must be positive.");
        }

        long? blockMs = null;
        if (block is { } b)
        {
            if (b < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(block), b, "The block time must not be negative (TimeSpan.Zero blocks forever).");
            }

            blockMs = (long)Math.Ceiling(b.TotalMilliseconds);
        }

        var state = (key, afterId, count, blockMs);
        Action<IBufferWriter<byte>, (string key, string afterId, int? count, long? blockMs)> write = static (w, s) =>
        {
            RespWriter.WriteArrayHeader(w, 4 + (s.count is null ? 0 : 2) + (s.blockMs is null ? 0 : 2));
            w.Write(Cmd.XRead);
            if (s.count is { } c)
            {
                w.Write(Cmd.Count);
                RespWriter.WriteBulk(w, c);
            }

            if (s.blockMs is { } ms)
            {
                w.Write(Cmd.Block);
                RespWriter.WriteBulk(w, ms);
            }

            w.Write(Cmd.Streams);
            RespWriter.WriteBulk(w, s.key);
            RespWriter.WriteBulk(w, s.afterId);
        };

        RespReply reply;
        if (blockMs is null)
        {
            reply = await SendAsync(state, write, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var timeout = blockMs == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(blockMs.Value) + _options.SyncTimeout;
            reply = await _blocking.SendAsync(state, write, timeout, cancellationToken).ConfigureAwait(false);
        }

        ThrowIfError(reply);
        if (reply.IsNull)
        {
            return [];
        }

        Expect(reply, RespType.Array, "XREAD");
        return reply.Items.Count == 0 ? [] : ParseEntries(reply.Items[0].Items[1], "XREAD");
    }

    /// <summary><c>PUBLISH</c>; the number of receivers.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>How many subscribers received it.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<long> PublishAsync(string channel, RedisArg message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        RedisArg.ThrowIfNull(message, nameof(message));
        var reply = await SendAsync((channel, message), static (w, s) =>
        {
            RespWriter.WriteArrayHeader(w, 3);
            w.Write(Cmd.Publish);
            RespWriter.WriteBulk(w, s.channel);
            RespWriter.WriteBulk(w, s.message);
        }, cancellationToken).ConfigureAwait(false);
        return Expect(reply, RespType.Integer, "PUBLISH").AsInt64();
    }

    /// <summary><c>SUBSCRIBE</c> on the dedicated subscriber connection; resubscribed after reconnects.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="handler">Called in order for each message, on the subscriber's reader: keep it short and non-blocking.</param>
    /// <param name="cancellationToken">Stops waiting for the confirmation.</param>
    /// <returns>The subscription; dispose it to unsubscribe.</returns>
    public Task<RedisSubscription> SubscribeAsync(string channel, Action<RedisMessage> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(State == RedisConnectionState.Disposed, this);
        return _subscriber.Value.SubscribeAsync(channel, false, handler, cancellationToken);
    }

    /// <summary><c>PSUBSCRIBE</c> on the dedicated subscriber connection; resubscribed after reconnects.</summary>
    /// <param name="pattern">The glob-style pattern, e.g. <c>events:*</c>.</param>
    /// <param name="handler">Called in order for each message, on the subscriber's reader: keep it short and non-blocking.</param>
    /// <param name="cancellationToken">Stops waiting for the confirmation.</param>
    /// <returns>The subscription; dispose it to unsubscribe.</returns>
    public Task<RedisSubscription> PatternSubscribeAsync(string pattern, Action<RedisMessage> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(State == RedisConnectionState.Disposed, this);
        return _subscriber.Value.SubscribeAsync(pattern, true, handler, cancellationToken);
    }

    /// <summary>Any command; server errors throw <see cref="RedisServerException"/>.</summary>
    /// <param name="command">The command name, e.g. <c>HSET</c> or <c>SCRIPT FLUSH</c> (words are split on spaces).</param>
    /// <param name="args">The arguments; none may be null.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The reply (nested errors, e.g. inside arrays, are returned as <see cref="RespType.Error"/> values).</returns>
    /// <exception cref="NotSupportedException">The command would change the shared connection's state (SUBSCRIBE, MULTI, SELECT, ...).</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<RespValue> ExecuteAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        ArgumentNullException.ThrowIfNull(args);
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Rejected.Contains(words[0]) || IsClientReply(words, args))
        {
            throw new NotSupportedException(
                $"'{words[0]}' changes the state of the shared, multiplexed connection and cannot be run through ExecuteAsync; use SubscribeAsync for pub/sub, Lua scripts (EvaluateAsync) for atomic multi-key work, or the connection string for AUTH/SELECT/CLIENT SETNAME.");
        }

        for (var i = 0; i < args.Count; i++)
        {
            RedisArg.ThrowIfNull(args[i], $"{nameof(args)}[{i}]");
        }

        var state = (words, args);
        Action<IBufferWriter<byte>, (string[] words, IReadOnlyList<RedisArg> args)> write = static (w, s) =>
        {
            RespWriter.WriteArrayHeader(w, s.words.Length + s.args.Count);
            foreach (var word in s.words)
            {
                RespWriter.WriteBulk(w, word);
            }

            for (var i = 0; i < s.args.Count; i++)
            {
                RespWriter.WriteBulk(w, s.args[i]);
            }
        };

        var blocking = Blocking.Contains(words[0]) || (words[0].Equals("XREAD", StringComparison.OrdinalIgnoreCase) && args.Any(a => a.Kind == RedisArg.ArgKind.Text && a.Text.Equals("BLOCK", StringComparison.OrdinalIgnoreCase)));
        var reply = blocking
            ? await _blocking.SendAsync(state, write, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)
            : await SendAsync(state, write, cancellationToken).ConfigureAwait(false);
        return ThrowIfError(reply).ToValue();
    }

    /// <summary>Closes every connection; commands in flight fail with <see cref="ObjectDisposedException"/>.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        _heartbeat.Dispose();
        _interactive.Dispose();
        if (_subscriber.IsValueCreated)
        {
            _subscriber.Value.Dispose();
        }

        _blocking.Dispose();
        return ValueTask.CompletedTask;
    }

    internal ValueTask<RespReply> SendAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, CancellationToken cancellationToken) =>
        _interactive.SendAsync(state, write, _options.SyncTimeout, cancellationToken);

    private static bool IsClientReply(string[] words, IReadOnlyList<RedisArg> args)
    {
        // CLIENT REPLY OFF|SKIP would break reply matching for every caller.
        if (!words[0].Equals("CLIENT", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var sub = words.Length > 1 ? words[1] : args.Count > 0 && args[0].Kind == RedisArg.ArgKind.Text ? args[0].Text : null;
        return "REPLY".Equals(sub, StringComparison.OrdinalIgnoreCase);
    }

    private static void WriteEvalSha(IBufferWriter<byte> w, (RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args) s)
    {
        RespWriter.WriteArrayHeader(w, 3 + s.keys.Count + s.args.Count);
        w.Write(Cmd.EvalSha);
        RespWriter.WriteBulk(w, s.script.Sha1);
        RespWriter.WriteBulk(w, (long)s.keys.Count);
        for (var i = 0; i < s.keys.Count; i++)
        {
            RespWriter.WriteBulk(w, s.keys[i]);
        }

        for (var i = 0; i < s.args.Count; i++)
        {
            RespWriter.WriteBulk(w, s.args[i]);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<IReadOnlyList<RedisStreamEntry>> RangeAsync(byte[] command, string name, string key, string from, string to, int? count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (count is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "COUNT must be positive.");
        }

        var reply = await SendAsync((command, key, from, to, count), static (w, s) =>
        {
            RespWriter.WriteArrayHeader(w, s.count is null ? 4 : 6);
            w.Write(s.command);
            RespWriter.WriteBulk(w, s.key);
            RespWriter.WriteBulk(w, s.from);
            RespWriter.WriteBulk(w, s.to);
            if (s.count is { } c)
            {
                w.Write(Cmd.Count);
                RespWriter.WriteBulk(w, c);
            }
        }, cancellationToken).ConfigureAwait(false);
        return ParseEntries(ThrowIfError(reply).ToValue(), name);
    }

    private static IReadOnlyList<RedisStreamEntry> ParseEntries(RespValue reply, string command)
    {
        if (reply.IsNull)
        {
            return [];
        }

        if (reply.Type != RespType.Array)
        {
            throw Unexpected(reply, command);
        }

        var entries = new RedisStreamEntry[reply.Items.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = reply.Items[i];
            if (entry.Type != RespType.Array || entry.Items.Count != 2)
            {
                throw Unexpected(entry, command);
            }

            var raw = entry.Items[1];
            var fields = new KeyValuePair<string, byte[]>[raw.IsNull ? 0 : raw.Items.Count / 2];
            for (var f = 0; f < fields.Length; f++)
            {
                fields[f] = new(raw.Items[2 * f].AsString()!, raw.Items[(2 * f) + 1].ToByteArray() ?? []);
            }

            entries[i] = new RedisStreamEntry(entry.Items[0].AsString()!, fields);
        }

        return entries;
    }

    private static RespReply ThrowIfError(RespReply reply) =>
        reply.IsError ? throw new RedisServerException(reply.AsString()!) : reply;

    private static RespReply Expect(RespReply reply, RespType type, string command)
    {
        if (reply.Type == type)
        {
            return reply;
        }

        throw Unexpected(reply, command);
    }

    private static Exception Unexpected(RespReply reply, string command) => Unexpected(reply.ToValue(), command);

    private static Exception Unexpected(RespValue reply, string command) =>
        reply.IsError
            ? new RedisServerException(reply.AsString()!)
            : new RedisProtocolException($"Redis answered {command} with {reply.Describe()}, which is not a valid reply to it.");

    private static long ToPositiveMilliseconds(TimeSpan value, string name)
    {
        var ms = (long)Math.Ceiling(value.TotalMilliseconds);
        if (ms <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, "The time must be at least 1 ms.");
        }

        return ms;
    }

    private void OnHeartbeat()
    {
        var now = Stopwatch.GetTimestamp();
        _interactive.Heartbeat(now);
        if (_subscriber.IsValueCreated)
        {
            _subscriber.Value.Heartbeat(now);
        }

        _blocking.Heartbeat(now);
    }

    private readonly record struct SetArgs(string Key, RedisArg Value, RedisSetCondition Condition, long? Px, long? PxAt, bool KeepTtl, bool Get)
    {
        public static readonly Action<IBufferWriter<byte>, SetArgs> Write = static (w, s) =>
        {
            var count = 3 + (s.Condition == RedisSetCondition.Always ? 0 : 1) + (s.Px is null ? 0 : 2) + (s.PxAt is null ? 0 : 2) + (s.KeepTtl ? 1 : 0) + (s.Get ? 1 : 0);
            RespWriter.WriteArrayHeader(w, count);
            w.Write(Cmd.Set);
            RespWriter.WriteBulk(w, s.Key);
            RespWriter.WriteBulk(w, s.Value);
            if (s.Condition != RedisSetCondition.Always)
            {
                w.Write(s.Condition == RedisSetCondition.NotExists ? Cmd.Nx : Cmd.Xx);
            }

            if (s.Px is { } px)
            {
                w.Write(Cmd.Px);
                RespWriter.WriteBulk(w, px);
            }

            if (s.PxAt is { } pxat)
            {
                w.Write(Cmd.PxAt);
                RespWriter.WriteBulk(w, pxat);
            }

            if (s.KeepTtl)
            {
                w.Write(Cmd.KeepTtl);
            }

            if (s.Get)
            {
                w.Write(Cmd.GetOption);
            }
        };

        public static SetArgs Create(string key, RedisArg value, RedisSetCondition condition, TimeSpan? expiry, DateTimeOffset? expiresAt, bool keepTtl, bool get)
        {
            ArgumentNullException.ThrowIfNull(key);
            RedisArg.ThrowIfNull(value, nameof(value));
            if (!Enum.IsDefined(condition))
            {
                throw new ArgumentOutOfRangeException(nameof(condition), condition, "Unknown SET condition.");
            }

            if ((expiry is not null ? 1 : 0) + (expiresAt is not null ? 1 : 0) + (keepTtl ? 1 : 0) > 1)
            {
                throw new ArgumentException("Pass at most one of expiry (PX), expiresAt (PXAT) and keepTtl (KEEPTTL).", nameof(expiry));
            }

            long? px = expiry is { } e ? ToPositiveMilliseconds(e, nameof(expiry)) : null;
            long? pxat = null;
            if (expiresAt is { } at)
            {
                pxat = at.ToUnixTimeMilliseconds();
                if (pxat <= 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(expiresAt), at, "PXAT needs a time after 1970-01-01.");
                }
            }

            return new SetArgs(key, value, condition, px, pxat, keepTtl, get);
        }
    }
}
