using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Hardening.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hardening.Sse.Storage;

/// <summary>
/// Many-instance store on Redis. Per stream: a hash <c>{prefix}{stream}:meta</c> holding the epoch and the last
/// sequence, and a Redis stream <c>{prefix}{stream}:log</c> whose entry ids are <c>&lt;sequence&gt;-0</c>. One Lua script
/// assigns the sequence, appends (<c>MAXLEN ~</c> plus age trimming) and publishes, so an acknowledged event is in the
/// log before any reader hears of it. When the hash is lost (flush, eviction, idle expiry) the next use creates a
/// new epoch. Live events reach this instance over one pattern subscription and are fanned out in-process; when the
/// subscriber connection comes back after a drop, every listener catches up from the log (nothing published in between
/// is lost, and connections stay open because the log and the publisher were not affected).
/// </summary>
internal sealed class RedisSseStore : ISseStore
{
    // Shared by both scripts: trims entries older than ARGV[minTs] (at most 64 per call, oldest first).
    private const string TrimByAge = """
        local function trim_by_age(log, min_ts)
          if min_ts <= 0 then return end
          local old = redis.call('XRANGE', log, '-', '+', 'COUNT', 64)
          local cut = nil
          for _, e in ipairs(old) do
            local f = e[2]
            local ts = nil
            for i = 1, #f, 2 do if f[i] == 'ts' then ts = tonumber(f[i + 1]) end end
            if ts ~= nil and ts < min_ts then cut = tonumber(string.match(e[1], '^(%d+)-')) else break end
          end
          if cut ~= nil then redis.call('XTRIM', log, 'MINID', string.format('%d-0', cut + 1)) end
        end
        local function ensure_epoch(meta, log, new_epoch)
          local epoch = redis.call('HGET', meta, 'epoch')
          if not epoch then
            epoch = new_epoch
            redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
            redis.call('DEL', log)
          end
          return epoch
        end
        """;

    // KEYS: meta, log. ARGV: new epoch, type, data, now ms, maxlen, min ts ms, channel, idle expiry ms.
    private static readonly RedisScript AppendScript = new(TrimByAge + "\n" + """
        local meta, log = KEYS[1], KEYS[2]
        local epoch = ensure_epoch(meta, log, ARGV[1])
        local seq = redis.call('HINCRBY', meta, 'seq', 1)
        redis.call('XADD', log, 'MAXLEN', '~', ARGV[5], string.format('%d-0', seq), 't', ARGV[2], 'd', ARGV[3], 'ts', ARGV[4])
        trim_by_age(log, tonumber(ARGV[6]))
        redis.call('PEXPIRE', meta, ARGV[8])
        redis.call('PEXPIRE', log, ARGV[8])
        redis.call('PUBLISH', ARGV[7], epoch .. '\n' .. seq .. '\n' .. ARGV[4] .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
        return {epoch, seq}
        """);

    // KEYS: meta, log. ARGV: new epoch, after sequence, max count, idle expiry ms, min ts ms.
    private static readonly RedisScript ReadScript = new(TrimByAge + "\n" + """
        local meta, log = KEYS[1], KEYS[2]
        local epoch = ensure_epoch(meta, log, ARGV[1])
        redis.call('PEXPIRE', meta, ARGV[4], 'NX')
        trim_by_age(log, tonumber(ARGV[5]))
        local head = tonumber(redis.call('HGET', meta, 'seq'))
        local first = head + 1
        local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
        if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)-')) end
        local entries = {}
        if tonumber(ARGV[3]) > 0 then
          entries = redis.call('XRANGE', log, string.format('%d-0', tonumber(ARGV[2]) + 1), '+', 'COUNT', ARGV[3])
        end
        return {epoch, head, first, entries}
        """);

    private readonly SseOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisConnection _redis;
    private readonly string _channelPrefix;
    private readonly ConcurrentDictionary<string, ISseListener[]> _listeners = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _subscribeGate = new(1, 1);
    private RedisSubscription? _subscription;
    private int _wasDisconnected;
    private int _subscriberWasDisconnected;

    public RedisSseStore(IOptions<SseOptions> options, TimeProvider time, ILoggerFactory loggers)
        : this(options, time, loggers, RedisConnection.Create(RedisConnectionOptions.Parse(options.Value.RedisConnectionString!), loggers))
    {
    }

    public RedisSseStore(IOptions<SseOptions> options, TimeProvider time, ILoggerFactory loggers, RedisConnection redis)
    {
        _options = options.Value;
        _time = time;
        _logger = loggers.CreateLogger("Hardening.Sse");
        _redis = redis;
        _channelPrefix = _options.RedisKeyPrefix + "n:";
        _redis.StateChanged += OnStateChanged;
        _redis.SubscriberStateChanged += OnSubscriberStateChanged;
    }

    // Messages published while the subscriber connection is down are recovered when it is back (OnCatchUpNeeded on
    // every listener). Still true so that the heartbeat poll stays as a backstop for a loss that no connection event
    // reveals (e.g. a catch-up signal that found a session's queue full).
    public bool LiveDeliveryMayDrop => true;

    public async Task<SseEvent> AppendAsync(string stream, string eventType, string data, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var reply = await _redis.EvaluateAsync(AppendScript, Keys(stream),
        [
            SseEventId.NewEpoch(), eventType, data, nowMs, (long)_options.RetentionCount, MinTimestamp(now),
            _channelPrefix + stream, (long)_options.IdleStreamExpiry.TotalMilliseconds,
        ], cancellationToken).ConfigureAwait(false);
        var items = reply.Items;
        return new SseEvent(stream, items[0].AsString()!, items[1].AsInt64(), eventType, data, DateTimeOffset.FromUnixTimeMilliseconds(nowMs));
    }

    public async Task<SseHistory> ReadAsync(string stream, long afterSequence, int maxCount, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var reply = await _redis.EvaluateAsync(ReadScript, Keys(stream),
        [
            SseEventId.NewEpoch(), afterSequence, (long)maxCount, (long)_options.IdleStreamExpiry.TotalMilliseconds, MinTimestamp(now),
        ], cancellationToken).ConfigureAwait(false);
        var items = reply.Items;
        var epoch = items[0].AsString()!;
        var entries = items[3].IsNull ? [] : items[3].Items;
        var events = new List<SseEvent>(entries.Count);
        foreach (var entry in entries)
        {
            events.Add(ToEvent(stream, epoch, entry));
        }

        return new SseHistory(epoch, items[1].AsInt64(), items[2].AsInt64(), events);
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string stream, ISseListener listener, CancellationToken cancellationToken)
    {
        _listeners.AddOrUpdate(stream, static (_, l) => [l], static (_, existing, l) => [.. existing, l], listener);
        try
        {
            await EnsureSubscribedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Remove(stream, listener);
            throw;
        }

        return new Registration(this, stream, listener);
    }

    public async ValueTask DisposeAsync()
    {
        _redis.StateChanged -= OnStateChanged;
        _redis.SubscriberStateChanged -= OnSubscriberStateChanged;
        if (_subscription is { } s)
        {
            try
            {
                await s.DisposeAsync().ConfigureAwait(false);
            }
            catch (RedisException)
            {
            }
        }

        await _redis.DisposeAsync().ConfigureAwait(false);
        _subscribeGate.Dispose();
    }

    internal static SseEvent ParseNotification(string stream, ReadOnlySpan<byte> payload)
    {
        // epoch \n seq \n ts \n type \n data (data may hold more \n: it is last)
        Span<int> ends = stackalloc int[4];
        var offset = 0;
        for (var i = 0; i < 4; i++)
        {
            var nl = payload[offset..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                throw new FormatException("Malformed SSE notification.");
            }

            ends[i] = offset + nl;
            offset = ends[i] + 1;
        }

        return new SseEvent(
            stream,
            Encoding.UTF8.GetString(payload[..ends[0]]),
            long.Parse(payload[(ends[0] + 1)..ends[1]], NumberStyles.None, CultureInfo.InvariantCulture),
            Encoding.UTF8.GetString(payload[(ends[2] + 1)..ends[3]]),
            Encoding.UTF8.GetString(payload[(ends[3] + 1)..]),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(payload[(ends[1] + 1)..ends[2]], NumberStyles.None, CultureInfo.InvariantCulture)));
    }

    private static SseEvent ToEvent(string stream, string epoch, RespValue entry)
    {
        var id = entry.Items[0].AsString()!;
        var sequence = long.Parse(id.AsSpan(0, id.IndexOf('-', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
        string type = "", data = "";
        long ts = 0;
        var fields = entry.Items[1].Items;
        for (var i = 0; i + 1 < fields.Count; i += 2)
        {
            switch (fields[i].AsString())
            {
                case "t": type = fields[i + 1].AsString()!; break;
                case "d": data = fields[i + 1].AsString()!; break;
                case "ts": ts = fields[i + 1].AsInt64(); break;
            }
        }

        return new SseEvent(stream, epoch, sequence, type, data, DateTimeOffset.FromUnixTimeMilliseconds(ts));
    }

    private long MinTimestamp(DateTimeOffset now) => (now - _options.RetentionAge).ToUnixTimeMilliseconds();

    private string[] Keys(string stream)
    {
        // The hash tag keeps both keys of a stream in one cluster slot, as the scripts require.
        var tag = _options.RedisKeyPrefix + "{" + stream + "}";
        return [tag + ":meta", tag + ":log"];
    }

    private async Task EnsureSubscribedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _subscription) is not null)
        {
            return;
        }

        await _subscribeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _subscription ??= await _redis.PatternSubscribeAsync(_channelPrefix + "*", OnMessage, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _subscribeGate.Release();
        }
    }

    private void OnMessage(RedisMessage message)
    {
        if (!message.Channel.StartsWith(_channelPrefix, StringComparison.Ordinal))
        {
            return;
        }

        var stream = message.Channel[_channelPrefix.Length..];
        if (!_listeners.TryGetValue(stream, out var listeners) || listeners.Length == 0)
        {
            return;
        }

        SseEvent e;
        try
        {
            e = ParseNotification(stream, message.Payload.Span);
        }
        catch (FormatException)
        {
            // Not ours (someone else published on the channel): readers fill gaps from the log anyway.
            return;
        }

        foreach (var listener in listeners)
        {
            listener.OnEvent(e);
        }
    }

    private void OnStateChanged(object? sender, RedisConnectionState state)
    {
        if (state == RedisConnectionState.Disconnected)
        {
            if (Interlocked.Exchange(ref _wasDisconnected, 1) == 0)
            {
                SseLog.BackplaneDisconnected(_logger);
            }

            // Live events may be lost while the socket is down: close the connections; clients come back with their ids.
            ForEach(static l => l.OnStoreUnavailable());
        }
        else if (state == RedisConnectionState.Connected && Interlocked.Exchange(ref _wasDisconnected, 0) == 1)
        {
            SseLog.BackplaneReconnected(_logger);
            ForEach(static l => l.OnCatchUpNeeded());
        }
    }

    private void OnSubscriberStateChanged(object? sender, RedisConnectionState state)
    {
        if (state == RedisConnectionState.Disconnected)
        {
            // Only live notifications are affected: the log and the publisher still work, so connections stay open.
            if (Interlocked.Exchange(ref _subscriberWasDisconnected, 1) == 0)
            {
                SseLog.SubscriberDisconnected(_logger);
            }
        }
        else if (state == RedisConnectionState.Connected && Interlocked.Exchange(ref _subscriberWasDisconnected, 0) == 1)
        {
            // Raised after the pattern subscription was re-sent and acknowledged: an event published from now on is
            // delivered live, and the log holds everything published in between.
            SseLog.SubscriberReconnected(_logger);
            ForEach(static l => l.OnCatchUpNeeded());
        }
    }

    private void ForEach(Action<ISseListener> action)
    {
        foreach (var (_, listeners) in _listeners)
        {
            foreach (var l in listeners)
            {
                action(l);
            }
        }
    }

    private void Remove(string stream, ISseListener listener)
    {
        while (_listeners.TryGetValue(stream, out var existing))
        {
            var updated = existing.Where(l => !ReferenceEquals(l, listener)).ToArray();
            if (updated.Length == 0
                ? _listeners.TryRemove(new KeyValuePair<string, ISseListener[]>(stream, existing))
                : _listeners.TryUpdate(stream, updated, existing))
            {
                return;
            }
        }
    }

    private sealed class Registration(RedisSseStore store, string stream, ISseListener listener) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            store.Remove(stream, listener);
            return ValueTask.CompletedTask;
        }
    }
}
