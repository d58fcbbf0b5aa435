using StackExchange.Redis;

namespace Hardening.Sse;

/// <summary>
/// One stream's sharded subscription and its listeners in this process; closed with its last listener. After the
/// subscriber connection comes back it tells its listeners to catch up, once the subscription is live again.
/// </summary>
internal sealed class RedisStreamSubscription
{
    private const int BarrierAttempts = 10;
    private static readonly TimeSpan BarrierFirstWait = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan BarrierMaxWait = TimeSpan.FromSeconds(1);

    private readonly RedisSseStore _store;
    private readonly string _stream;
    private readonly Lock _gate = new();
    private ISseListener[] _listeners = [];
    private bool _closed;
    private ChannelMessageQueue? _queue;
    private long _barrierRound;
    private Barrier? _barrier;

    public RedisStreamSubscription(RedisSseStore store, string stream)
    {
        _store = store;
        _stream = stream;
        Ready = SubscribeAsync();
    }

    /// <summary>Completes once the server has taken the subscription.</summary>
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
            _store.Forget(_stream, this);
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

    /// <summary>A barrier arrived on this stream's channel (this instance's or another's).</summary>
    public void OnBarrier(ReadOnlySpan<byte> payload)
    {
        var barrier = Volatile.Read(ref _barrier);
        if (barrier is not null && payload.SequenceEqual(barrier.Payload))
        {
            barrier.Arrived.TrySetResult();
        }
    }

    private async Task CatchUpWhenLiveAsync()
    {
        var round = Interlocked.Increment(ref _barrierRound);
        var barrier = new Barrier(RedisSseWire.Barrier(_store.Instance, round));
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

                await _store.Redis.GetSubscriber().PublishAsync(channel, barrier.Payload).ConfigureAwait(false);
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
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding); // to the thread pool, never to the caller's context
        var queue = await _store.Redis.GetSubscriber().SubscribeAsync(RedisChannel.Sharded(_store.Channel(_stream))).ConfigureAwait(false);
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

    private sealed class Barrier(byte[] payload)
    {
        public byte[] Payload { get; } = payload;

        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
