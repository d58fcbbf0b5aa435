using System.Collections.Concurrent;
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
/// a drop, every listener catches up from the log once its subscription is live again (<see cref="RedisStreamSubscription"/>).
/// </summary>
internal sealed class RedisSseStore : ISseStore
{
    private readonly SseOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly ConcurrentDictionary<string, RedisStreamSubscription> _streams = new(StringComparer.Ordinal);
    private readonly StreamHighWater _highWater = new();
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

    /// <summary>The app's multiplexer (the store check reads it).</summary>
    public IConnectionMultiplexer Multiplexer => _redis;

    // Messages published while the subscriber connection is down are recovered when it is back (OnCatchUpNeeded on
    // every listener). Still true so that the heartbeat poll stays as a backstop for a loss that no connection event
    // reveals (e.g. a catch-up signal that found a session's queue full).
    public bool LiveDeliveryMayDrop => true;

    public async Task<SseEvent> AppendAsync(string stream, string eventType, string data, string? deduplicationKey, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var keys = Keys(stream);
        if (deduplicationKey is not null)
        {
            keys = [.. keys, RedisSseWire.DeduplicationKey(_options.RedisKeyPrefix, stream, deduplicationKey)];
        }

        var reply = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisSseScripts.Append, keys,
        [
            SseEventId.NewEpoch(), eventType, data, nowMs, _options.RetentionCount, MinTimestamp(now),
            Channel(stream), (long)_options.IdleStreamExpiry.TotalMilliseconds,
            (long)Math.Min(_options.RetentionAge.TotalMilliseconds, _options.IdleStreamExpiry.TotalMilliseconds),
        ]).WaitAsync(_options.StoreTimeout, _time, cancellationToken).ConfigureAwait(false))!;
        return new SseEvent(stream, (string)reply[0]!, (long)reply[1], eventType, data, DateTimeOffset.FromUnixTimeMilliseconds((long)reply[2]));
    }

    public async Task<SseHistory> ReadAsync(string stream, long afterSequence, int maxCount, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        _highWater.TryGet(stream, out var seenBefore); // only a mark from before the read proves a loss
        var items = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisSseScripts.Read, Keys(stream),
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
            events.Add(RedisSseWire.ToEvent(stream, epoch, (RedisResult[])entry!));
        }

        if (events.Count > 0 && _highWater.Behind(events[^1]) is { } lagging)
        {
            _ = VerifyQuietlyAsync(stream, lagging);
        }

        return new SseHistory(epoch, head, (long)items[2], events);
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string stream, ISseListener listener, CancellationToken cancellationToken)
    {
        while (true)
        {
            var subscription = _streams.GetOrAdd(stream, static (s, store) => new RedisStreamSubscription(store, s), this);
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
            _streams.TryRemove(new KeyValuePair<string, RedisStreamSubscription>(stream, subscription));
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

    /// <summary>Moves the stream to a new epoch when Redis no longer holds the event <paramref name="seen"/> as it was.</summary>
    private async Task VerifyQuietlyAsync(string stream, StreamHighWater.Mark seen)
    {
        try
        {
            var reply = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisSseScripts.Verify, Keys(stream), [seen.Epoch, seen.Sequence])
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
        _highWater.Forget(stream);
        await _db.ScriptEvaluateAsync(RedisSseScripts.Rotate, Keys(stream), [epoch, SseEventId.NewEpoch()])
            .WaitAsync(_options.StoreTimeout, _time, cancellationToken).ConfigureAwait(false);
    }

    private long MinTimestamp(DateTimeOffset now) => (now - _options.RetentionAge).ToUnixTimeMilliseconds();

    internal IConnectionMultiplexer Redis => _redis;

    /// <summary>Tells this instance's barriers from others'.</summary>
    internal string Instance { get; } = Guid.NewGuid().ToString("N");

    internal string Channel(string stream) => RedisSseWire.Channel(_options.RedisKeyPrefix, stream);

    /// <summary>A subscription closed with its last listener.</summary>
    internal void Forget(string stream, RedisStreamSubscription subscription) =>
        _streams.TryRemove(new KeyValuePair<string, RedisStreamSubscription>(stream, subscription));

    internal void OnMessage(string stream, ChannelMessage message)
    {
        if (!_streams.TryGetValue(stream, out var subscription))
        {
            return;
        }

        var payload = (byte[])message.Message!;
        if (payload.Length > 0 && payload[0] == RedisSseWire.BarrierMark)
        {
            subscription.OnBarrier(payload);
            return;
        }

        SseEvent e;
        try
        {
            e = RedisSseWire.ParseNotification(stream, payload);
        }
        catch (FormatException)
        {
            // Not ours (someone else published on the channel): readers fill gaps from the log anyway.
            return;
        }

        if (_highWater.Behind(e) is { } seen)
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

    private RedisKey[] Keys(string stream) => RedisSseWire.Keys(_options.RedisKeyPrefix, stream);

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

    private sealed class Registration(RedisStreamSubscription subscription, ISseListener listener) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => subscription.RemoveAsync(listener);
    }
}
