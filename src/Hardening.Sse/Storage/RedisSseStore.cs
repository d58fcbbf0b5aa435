using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hardening.Sse;

/// <summary>
/// Many-instance store on the app's <see cref="IConnectionMultiplexer"/>. Per stream: a hash <c>{prefix}{stream}:meta</c>
/// holding the epoch and the last sequence, and a Redis stream <c>{prefix}{stream}:log</c> whose entry ids are
/// <c>&lt;sequence&gt;-0</c>; both and the stream's sharded channel <c>{prefix}{stream}:n</c> carry the hash tag of the
/// stream, so one script assigns the sequence, appends (<c>MAXLEN ~</c> plus age trimming) and publishes (<c>SPUBLISH</c>)
/// atomically, on one server or a cluster: an acknowledged event is in the log before any reader hears of it. When the
/// hash is lost (flush, eviction, idle expiry) the next use creates a new epoch. A stream that went backwards (a
/// failover to a replica that had not received the newest entries) is noticed by any instance with readers of the
/// stream, from the order of the live notifications or from a read behind them, and that instance moves the stream to
/// a new epoch, so the readers get a reset instead of a reused id. Live events reach this
/// instance over one sharded subscription per stream with readers here, in order; when a connection comes back after
/// a drop, every listener catches up from the log.
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
    private const string AppendScript = TrimByAge + "\n" + """
        local meta, log = KEYS[1], KEYS[2]
        local epoch = ensure_epoch(meta, log, ARGV[1])
        local seq = redis.call('HINCRBY', meta, 'seq', 1)
        redis.call('XADD', log, 'MAXLEN', '~', ARGV[5], string.format('%d-0', seq), 't', ARGV[2], 'd', ARGV[3], 'ts', ARGV[4])
        trim_by_age(log, tonumber(ARGV[6]))
        redis.call('PEXPIRE', meta, ARGV[8])
        redis.call('PEXPIRE', log, ARGV[8])
        redis.call('SPUBLISH', ARGV[7], epoch .. '\n' .. seq .. '\n' .. ARGV[4] .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
        return {epoch, seq}
        """;

    // KEYS: meta, log. ARGV: new epoch, after sequence, max count, idle expiry ms, min ts ms.
    private const string ReadScript = TrimByAge + "\n" + """
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
        """;

    // KEYS: meta, log. ARGV: epoch, sequence. Returns {same epoch 1/0, head, ts of that entry or nil}.
    private const string VerifyScript = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if epoch ~= ARGV[1] then return {0, 0, false} end
        local head = tonumber(redis.call('HGET', KEYS[1], 'seq'))
        local e = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-0', ARGV[2] .. '-0')
        local ts = false
        if #e > 0 then
          local f = e[1][2]
          for i = 1, #f, 2 do if f[i] == 'ts' then ts = tonumber(f[i + 1]) end end
        end
        return {1, head, ts}
        """;

    // KEYS: meta, log. ARGV: the epoch that went backwards, the new epoch. Moves the stream to a new, empty epoch
    // unless another instance already did.
    private const string RotateScript = """
        if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then
          redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'seq', 0)
          redis.call('DEL', KEYS[2])
        end
        return 1
        """;

    private const int MaxTrackedStreams = 100_000;

    // First byte of a barrier on a stream's channel (never the first byte of an epoch, so never a notification).
    private const byte BarrierMark = 0x01;
    private const int BarrierAttempts = 10;
    private static readonly TimeSpan BarrierFirstWait = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan BarrierMaxWait = TimeSpan.FromSeconds(1);
    private readonly SseOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly ConcurrentDictionary<string, StreamSubscription> _streams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, HighWater> _highWater = new(StringComparer.Ordinal);
    private readonly string _instance = Guid.NewGuid().ToString("N"); // tells this instance's barriers from others'
    private int _wasDisconnected;
    private int _subscriberWasDisconnected;

    public RedisSseStore(IOptions<SseOptions> options, TimeProvider time, ILoggerFactory loggers, IConnectionMultiplexer redis)
    {
        _options = options.Value;
        _time = time;
        _logger = loggers.CreateLogger("Hardening.Sse");
        _redis = redis;
        _db = redis.GetDatabase();
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
    }

    // Messages published while the subscriber connection is down are recovered when it is back (OnCatchUpNeeded on
    // every listener). Still true so that the heartbeat poll stays as a backstop for a loss that no connection event
    // reveals (e.g. a catch-up signal that found a session's queue full).
    public bool LiveDeliveryMayDrop => true;

    public async Task<SseEvent> AppendAsync(string stream, string eventType, string data, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var reply = (RedisResult[])(await _db.ScriptEvaluateAsync(AppendScript, Keys(stream),
        [
            SseEventId.NewEpoch(), eventType, data, nowMs, _options.RetentionCount, MinTimestamp(now),
            Channel(stream), (long)_options.IdleStreamExpiry.TotalMilliseconds,
        ]).WaitAsync(_options.StoreTimeout, _time, cancellationToken).ConfigureAwait(false))!;
        return new SseEvent(stream, (string)reply[0]!, (long)reply[1], eventType, data, DateTimeOffset.FromUnixTimeMilliseconds(nowMs));
    }

    public async Task<SseHistory> ReadAsync(string stream, long afterSequence, int maxCount, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        _highWater.TryGetValue(stream, out var seenBefore); // only a mark from before the read proves a loss
        var items = (RedisResult[])(await _db.ScriptEvaluateAsync(ReadScript, Keys(stream),
        [
            SseEventId.NewEpoch(), afterSequence, maxCount, (long)_options.IdleStreamExpiry.TotalMilliseconds, MinTimestamp(now),
        ]).WaitAsync(_options.StoreTimeout, _time, cancellationToken).ConfigureAwait(false))!;
        var epoch = (string)items[0]!;
        var head = (long)items[1];
        if (seenBefore.Epoch == epoch && seenBefore.Sequence > head)
        {
            // Behind what this instance already saw: make the loss visible as a new epoch (readers then reset).
            await RotateAsync(stream, epoch, cancellationToken).ConfigureAwait(false);
            return await ReadAsync(stream, afterSequence, maxCount, cancellationToken).ConfigureAwait(false);
        }

        var entries = items[3].IsNull ? [] : (RedisResult[])items[3]!;
        var events = new List<SseEvent>(entries.Length);
        foreach (var entry in entries)
        {
            events.Add(ToEvent(stream, epoch, (RedisResult[])entry!));
        }

        if (events.Count > 0 && Behind(events[^1]) is { } lagging)
        {
            _ = VerifyQuietlyAsync(stream, lagging);
        }

        return new SseHistory(epoch, head, (long)items[2], events);
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string stream, ISseListener listener, CancellationToken cancellationToken)
    {
        while (true)
        {
            var subscription = _streams.GetOrAdd(stream, static (s, store) => new StreamSubscription(store, s), this);
            if (subscription.TryAdd(listener))
            {
                try
                {
                    await subscription.Ready.WaitAsync(_options.StoreTimeout, _time, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await subscription.RemoveAsync(listener).ConfigureAwait(false);
                    throw;
                }

                return new Registration(subscription, listener);
            }

            // Closing after its last listener left: wait for it to go and start a new one.
            _streams.TryRemove(new KeyValuePair<string, StreamSubscription>(stream, subscription));
        }
    }

    public ValueTask DisposeAsync()
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        foreach (var (_, subscription) in _streams)
        {
            subscription.Close();
        }

        _streams.Clear();
        return ValueTask.CompletedTask;
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

    private static SseEvent ToEvent(string stream, string epoch, RedisResult[] entry)
    {
        var id = (string)entry[0]!;
        var sequence = long.Parse(id.AsSpan(0, id.IndexOf('-', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
        string type = "", data = "";
        long ts = 0;
        var fields = (RedisResult[])entry[1]!;
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string?)fields[i])
            {
                case "t": type = (string)fields[i + 1]!; break;
                case "d": data = (string)fields[i + 1]!; break;
                case "ts": ts = (long)fields[i + 1]; break;
            }
        }

        return new SseEvent(stream, epoch, sequence, type, data, DateTimeOffset.FromUnixTimeMilliseconds(ts));
    }

    /// <summary>
    /// Records an event this instance saw (a live notification or a read) as the stream's high-water mark; returns the
    /// previous mark when the event is behind it in the same epoch (a lower sequence, or the same sequence with another
    /// publication time), which is either a notification lagging a read or a stream that lost its newest entries.
    /// </summary>
    private HighWater? Behind(SseEvent e)
    {
        while (true)
        {
            if (!_highWater.TryGetValue(e.Stream, out var seen))
            {
                if (_highWater.Count >= MaxTrackedStreams)
                {
                    _highWater.Clear(); // bounded memory; losing the marks only weakens detection, never delivery
                }

                if (_highWater.TryAdd(e.Stream, new HighWater(e.Epoch, e.Sequence, e.PublishedAt)))
                {
                    return null;
                }

                continue;
            }

            if (seen.Epoch == e.Epoch && (seen.Sequence > e.Sequence || (seen.Sequence == e.Sequence && seen.PublishedAt != e.PublishedAt)))
            {
                return seen;
            }

            if (seen.Epoch == e.Epoch && seen.Sequence == e.Sequence)
            {
                return null;
            }

            if (_highWater.TryUpdate(e.Stream, new HighWater(e.Epoch, e.Sequence, e.PublishedAt), seen))
            {
                return null;
            }
        }
    }

    /// <summary>Moves the stream to a new epoch when Redis no longer holds the event <paramref name="seen"/> as it was.</summary>
    private async Task VerifyQuietlyAsync(string stream, HighWater seen)
    {
        try
        {
            var reply = (RedisResult[])(await _db.ScriptEvaluateAsync(VerifyScript, Keys(stream), [seen.Epoch, seen.Sequence])
                .WaitAsync(_options.StoreTimeout, _time, CancellationToken.None).ConfigureAwait(false))!;
            var lost = (long)reply[0] == 1 && ((long)reply[1] < seen.Sequence || (!reply[2].IsNull && (long)reply[2] != seen.PublishedAt.ToUnixTimeMilliseconds()));
            if (lost)
            {
                await RotateAsync(stream, seen.Epoch, CancellationToken.None).ConfigureAwait(false);
                ForEach(static l => l.OnCatchUpNeeded());
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            ForEach(static l => l.OnStoreUnavailable());
        }
    }

    private async Task RotateAsync(string stream, string epoch, CancellationToken cancellationToken)
    {
        SseLog.StreamWentBackwards(_logger, stream, epoch);
        _highWater.TryRemove(stream, out _);
        await _db.ScriptEvaluateAsync(RotateScript, Keys(stream), [epoch, SseEventId.NewEpoch()])
            .WaitAsync(_options.StoreTimeout, _time, cancellationToken).ConfigureAwait(false);
    }

    private long MinTimestamp(DateTimeOffset now) => (now - _options.RetentionAge).ToUnixTimeMilliseconds();

    private RedisKey[] Keys(string stream)
    {
        // The hash tag keeps both keys of a stream (and its channel) in one cluster slot, as the scripts require.
        var tag = _options.RedisKeyPrefix + "{" + stream + "}";
        return [tag + ":meta", tag + ":log"];
    }

    private string Channel(string stream) => _options.RedisKeyPrefix + "{" + stream + "}:n";

    private void OnMessage(string stream, ChannelMessage message)
    {
        if (!_streams.TryGetValue(stream, out var subscription))
        {
            return;
        }

        var payload = (byte[])message.Message!;
        if (payload.Length > 0 && payload[0] == BarrierMark)
        {
            subscription.OnBarrier(payload);
            return;
        }

        SseEvent e;
        try
        {
            e = ParseNotification(stream, payload);
        }
        catch (FormatException)
        {
            // Not ours (someone else published on the channel): readers fill gaps from the log anyway.
            return;
        }

        if (Behind(e) is { } seen)
        {
            // Either the notification lags a read that already returned later events (normal), or the stream lost
            // entries and handed their ids out again: ask Redis which, off this thread.
            _ = VerifyQuietlyAsync(stream, seen);
        }

        foreach (var listener in subscription.Listeners)
        {
            listener.OnEvent(e);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            // Only live notifications are affected: the log and the publisher still work, so connections stay open.
            if (Interlocked.Exchange(ref _subscriberWasDisconnected, 1) == 0)
            {
                SseLog.SubscriberDisconnected(_logger);
            }

            return;
        }

        if (Interlocked.Exchange(ref _wasDisconnected, 1) == 0)
        {
            SseLog.BackplaneDisconnected(_logger);
        }

        // Live events may be lost while the socket is down: close the connections; clients come back with their ids.
        ForEach(static l => l.OnStoreUnavailable());
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            if (Interlocked.Exchange(ref _subscriberWasDisconnected, 0) == 1)
            {
                SseLog.SubscriberReconnected(_logger);
            }

            // The client re-sends the subscriptions without waiting for the server to take them and raises this event
            // at once: a catch-up read now can finish before a subscription is live again, and an event published in
            // between would reach neither the live path nor the read. Each stream catches up once a barrier it
            // published came back through its own subscription.
            foreach (var (_, subscription) in _streams)
            {
                subscription.CatchUpWhenLive();
            }

            return;
        }

        if (Interlocked.Exchange(ref _wasDisconnected, 0) == 1)
        {
            SseLog.BackplaneReconnected(_logger);
        }

        // What was published while the connection was down is in the log.
        ForEach(static l => l.OnCatchUpNeeded());
    }

    private void ForEach(Action<ISseListener> action)
    {
        foreach (var (_, subscription) in _streams)
        {
            foreach (var l in subscription.Listeners)
            {
                action(l);
            }
        }
    }

    private readonly record struct HighWater(string Epoch, long Sequence, DateTimeOffset PublishedAt);

    /// <summary>One stream's sharded subscription and its listeners in this process; closed with its last listener.</summary>
    private sealed class StreamSubscription
    {
        private readonly RedisSseStore _store;
        private readonly string _stream;
        private readonly Lock _gate = new();
        private ISseListener[] _listeners = [];
        private bool _closed;
        private ChannelMessageQueue? _queue;
        private long _barrierRound;
        private Barrier? _barrier;

        public StreamSubscription(RedisSseStore store, string stream)
        {
            _store = store;
            _stream = stream;
            Ready = SubscribeAsync();
        }

        public Task Ready { get; private set; }

        public ISseListener[] Listeners => Volatile.Read(ref _listeners);

        public bool TryAdd(ISseListener listener)
        {
            lock (_gate)
            {
                if (_closed)
                {
                    return false;
                }

                if (Ready.IsFaulted || Ready.IsCanceled)
                {
                    Ready = SubscribeAsync(); // the first attempt failed (Redis was down): try again
                }

                _listeners = [.. _listeners, listener];
                return true;
            }
        }

        public async ValueTask RemoveAsync(ISseListener listener)
        {
            ChannelMessageQueue? queue;
            lock (_gate)
            {
                _listeners = _listeners.Where(l => !ReferenceEquals(l, listener)).ToArray();
                if (_listeners.Length > 0 || _closed)
                {
                    return;
                }

                _closed = true;
                queue = _queue;
                _store._streams.TryRemove(new KeyValuePair<string, StreamSubscription>(_stream, this));
            }

            if (queue is not null)
            {
                try
                {
                    await queue.UnsubscribeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // The connection is gone, and the subscription with it.
                }
            }
        }

        public void Close()
        {
            lock (_gate)
            {
                _closed = true;
                _queue?.Unsubscribe(CommandFlags.FireAndForget);
            }
        }

        /// <summary>
        /// After the subscriber connection came back: publishes a barrier on the stream's channel until it comes back
        /// through this subscription (then the subscription is live: a later event arrives live, an earlier one is in
        /// the log), then asks every listener to catch up. A newer call supersedes this one.
        /// </summary>
        public void CatchUpWhenLive() => _ = CatchUpWhenLiveAsync();

        public void OnBarrier(byte[] payload)
        {
            var barrier = Volatile.Read(ref _barrier);
            if (barrier is not null && payload.AsSpan().SequenceEqual(barrier.Payload))
            {
                barrier.Arrived.TrySetResult();
            }
        }

        private async Task CatchUpWhenLiveAsync()
        {
            var round = Interlocked.Increment(ref _barrierRound);
            var barrier = new Barrier(Encoding.ASCII.GetBytes(
                string.Create(CultureInfo.InvariantCulture, $"{(char)BarrierMark}{_store._instance}:{round}")));
            Volatile.Write(ref _barrier, barrier);
            var channel = RedisChannel.Sharded(_store.Channel(_stream));
            var wait = BarrierFirstWait;
            try
            {
                // Bounded: past it the listeners catch up anyway and the heartbeat poll stays the backstop.
                for (var attempt = 0; attempt < BarrierAttempts && !barrier.Arrived.Task.IsCompleted; attempt++)
                {
                    if (Volatile.Read(ref _barrierRound) != round || Volatile.Read(ref _closed))
                    {
                        return; // a newer reconnection catches up, or nobody listens any more
                    }

                    await _store._redis.GetSubscriber().PublishAsync(channel, barrier.Payload).ConfigureAwait(false);
                    await Task.WhenAny(barrier.Arrived.Task, Task.Delay(wait)).ConfigureAwait(false);
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, BarrierMaxWait.Ticks));
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // The interactive connection is down too: its events close or catch up the sessions.
            }

            if (Volatile.Read(ref _barrierRound) == round)
            {
                foreach (var listener in Listeners)
                {
                    listener.OnCatchUpNeeded();
                }
            }
        }

        private async Task SubscribeAsync()
        {
            await Task.Yield();
            var queue = await _store._redis.GetSubscriber().SubscribeAsync(RedisChannel.Sharded(_store.Channel(_stream))).ConfigureAwait(false);
            queue.OnMessage(message => _store.OnMessage(_stream, message));
            bool closed;
            lock (_gate)
            {
                _queue = queue;
                closed = _closed;
            }

            if (closed)
            {
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class Barrier(byte[] payload)
    {
        public byte[] Payload { get; } = payload;

        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Registration(StreamSubscription subscription, ISseListener listener) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => subscription.RemoveAsync(listener);
    }
}
