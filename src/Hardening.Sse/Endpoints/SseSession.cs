using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Hardening.Sse;
using Microsoft.Extensions.Logging;

namespace Hardening.Sse;

/// <summary>How a session ended.</summary>
internal enum SseSessionEnd
{
    ClientGone,
    SlowConsumer,
    StoreUnavailable,
}

/// <summary>
/// One connection's delivery: subscribe to live events first (buffered in a bounded queue), then replay the log from
/// the client's cursor, then drain the live queue, dropping what the replay already sent and filling any gap from the
/// log. The cursor (epoch + last written sequence) only moves forward by one, so nothing is written twice or skipped;
/// the only exception is an explicit <c>reset</c> event.
/// </summary>
internal sealed class SseSession : ISseListener
{
    private readonly ISseStore _store;
    private readonly string _stream;
    private readonly SseOptions _options;
    private readonly SseMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Delivery> _queue;
    private int _overflowed;
    private int _catchUpPending;
    private string _epoch = "";
    private long _cursor;

    public SseSession(ISseStore store, string stream, SseOptions options, SseMetrics metrics, TimeProvider time, ILogger logger)
    {
        _store = store;
        _stream = stream;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(options.SubscriberQueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    private enum Kind
    {
        Event,
        Heartbeat,
        CatchUp,
        StoreUnavailable,
    }

    /// <summary>The id of the last thing written (event or reset).</summary>
    public SseEventId Cursor => new(_epoch, _cursor);

    public void OnEvent(SseEvent sseEvent)
    {
        if (!_queue.Writer.TryWrite(new Delivery(Kind.Event, sseEvent)) && Interlocked.CompareExchange(ref _overflowed, 1, 0) == 0)
        {
            _queue.Writer.TryComplete();
        }
    }

    public void OnCatchUpNeeded()
    {
        // The flag survives a full queue (where the signal itself would be dropped): the loop checks it after each batch.
        Volatile.Write(ref _catchUpPending, 1);
        Signal(Kind.CatchUp);
    }

    public void OnStoreUnavailable()
    {
        // Must get through even when the queue is full.
        if (!_queue.Writer.TryWrite(new Delivery(Kind.StoreUnavailable, null)))
        {
            Interlocked.CompareExchange(ref _overflowed, 2, 0);
            _queue.Writer.TryComplete();
        }
    }

    /// <summary>Writes the stream to <paramref name="output"/> until the client goes, is too slow, or the store goes away.</summary>
    public async Task<SseSessionEnd> RunAsync(PipeWriter output, string? lastEventId, SseStartPosition start, CancellationToken cancellationToken)
    {
        var subscription = await _store.SubscribeAsync(_stream, this, cancellationToken).ConfigureAwait(false);
        await using var subscriptionDisposal = subscription.ConfigureAwait(false);
        using var heartbeat = _time.CreateTimer(static s => ((SseSession)s!).Signal(Kind.Heartbeat), this, _options.HeartbeatInterval, _options.HeartbeatInterval);

        output.Write(SseFrames.Retry(_options.ReconnectionInterval));
        if (lastEventId is not null)
        {
            // A resuming client sees the connection open at once; the replay follows. A new client sees it open
            // only once its starting point is fixed, so an event published after "open" is never before that point.
            await FlushAsync(output, cancellationToken).ConfigureAwait(false);
        }

        await StartAsync(output, lastEventId, start, cancellationToken).ConfigureAwait(false);
        await FlushAsync(output, cancellationToken).ConfigureAwait(false);

        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (Volatile.Read(ref _overflowed) == 0 && reader.TryRead(out var item))
            {
                switch (item.Kind)
                {
                    case Kind.Event:
                        await DeliverLiveAsync(output, item.Event!, cancellationToken).ConfigureAwait(false);
                        break;
                    case Kind.Heartbeat:
                        output.Write(SseFrames.Heartbeat);
                        if (_store.LiveDeliveryMayDrop)
                        {
                            // Bounds the delay of an event whose notification was lost and that no later event reveals.
                            await FillAsync(output, long.MaxValue, cancellationToken).ConfigureAwait(false);
                        }

                        break;
                    case Kind.CatchUp:
                        if (Interlocked.Exchange(ref _catchUpPending, 0) == 1)
                        {
                            await FillAsync(output, long.MaxValue, cancellationToken).ConfigureAwait(false);
                        }

                        break;
                    case Kind.StoreUnavailable:
                        return await EndStoreUnavailableAsync(output, cancellationToken).ConfigureAwait(false);
                }
            }

            if (Volatile.Read(ref _overflowed) != 0)
            {
                break;
            }

            if (Interlocked.Exchange(ref _catchUpPending, 0) == 1)
            {
                await FillAsync(output, long.MaxValue, cancellationToken).ConfigureAwait(false);
            }

            await FlushAsync(output, cancellationToken).ConfigureAwait(false);
        }

        if (Volatile.Read(ref _overflowed) == 2)
        {
            return await EndStoreUnavailableAsync(output, cancellationToken).ConfigureAwait(false);
        }

        _metrics.SlowConsumerDisconnect();
        SseLog.SlowConsumer(_logger, _stream, _options.SubscriberQueueCapacity);
        output.Write(SseFrames.Comment($"slow consumer: more than {_options.SubscriberQueueCapacity} events queued; reconnect with Last-Event-ID to resume"));
        await FlushAsync(output, cancellationToken).ConfigureAwait(false);
        return SseSessionEnd.SlowConsumer;
    }

    private static async ValueTask FlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var result = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new OperationCanceledException("The client closed the connection.", cancellationToken);
        }
    }

    private async Task<SseSessionEnd> EndStoreUnavailableAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        output.Write(SseFrames.Comment("event store unavailable; retry later"));
        await FlushAsync(output, cancellationToken).ConfigureAwait(false);
        return SseSessionEnd.StoreUnavailable;
    }

    private async Task StartAsync(PipeWriter output, string? lastEventId, SseStartPosition start, CancellationToken cancellationToken)
    {
        SseEventId requested = default;
        var valid = lastEventId is not null && SseEventId.TryParse(lastEventId, out requested);
        var replay = valid || (lastEventId is null && start == SseStartPosition.OldestRetained);
        var history = await _store.ReadAsync(_stream, valid ? requested.Sequence : 0, replay ? _options.ReplayBatchSize : 0, cancellationToken).ConfigureAwait(false);
        _epoch = history.Epoch;

        string? reset = null;
        if (lastEventId is not null && !valid)
        {
            reset = SseResetReasons.InvalidId;
        }
        else if (valid && !string.Equals(requested.Epoch, history.Epoch, StringComparison.Ordinal))
        {
            reset = SseResetReasons.Epoch;
        }
        else if (valid && requested.Sequence > history.Head)
        {
            reset = SseResetReasons.Ahead;
        }
        else if (valid && requested.Sequence < history.First - 1)
        {
            reset = SseResetReasons.Retention;
        }

        if (reset is not null)
        {
            WriteReset(output, history.Epoch, history.Head, reset);
            return;
        }

        _cursor = valid ? requested.Sequence : replay ? history.First - 1 : history.Head;
        if (!valid)
        {
            // An id-only frame dispatches nothing but sets the browser's last event id, so even a client that has
            // not received an event yet resumes from here after a disconnect instead of from "now".
            output.Write(SseFrames.Anchor(Cursor));
        }

        if (replay && await WriteReplayedAsync(output, history, long.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            await FillAsync(output, long.MaxValue, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask DeliverLiveAsync(PipeWriter output, SseEvent e, CancellationToken cancellationToken)
    {
        if (!string.Equals(e.Epoch, _epoch, StringComparison.Ordinal))
        {
            // The stream's history was lost while we were connected (e.g. Redis flushed): say so, then follow the new epoch.
            WriteReset(output, e.Epoch, 0, SseResetReasons.Epoch);
        }

        if (e.Sequence <= _cursor)
        {
            return; // already sent by the replay
        }

        if (e.Sequence > _cursor + 1)
        {
            // Live delivery skipped something (backplane hiccup): take the missing events, and this one, from the log.
            await FillAsync(output, e.Sequence, cancellationToken).ConfigureAwait(false);
            return;
        }

        Write(output, e);
        if (_metrics.DeliveryLagEnabled)
        {
            _metrics.DeliveryLag(Math.Max(0, (_time.GetUtcNow() - e.PublishedAt).TotalSeconds));
        }
    }

    /// <summary>Reads the log after the cursor until <paramref name="upTo"/> (or the head) is written.</summary>
    private async Task FillAsync(PipeWriter output, long upTo, CancellationToken cancellationToken)
    {
        while (_cursor < upTo)
        {
            var count = (int)Math.Min(_options.ReplayBatchSize, upTo - _cursor);
            var history = await _store.ReadAsync(_stream, _cursor, count, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(history.Epoch, _epoch, StringComparison.Ordinal))
            {
                WriteReset(output, history.Epoch, history.Head, SseResetReasons.Epoch);
                return;
            }

            if (!await WriteReplayedAsync(output, history, upTo, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Writes a read's events after the cursor; false when the read was the last one needed.</summary>
    private async ValueTask<bool> WriteReplayedAsync(PipeWriter output, SseHistory history, long upTo, CancellationToken cancellationToken)
    {
        if (history.First > _cursor + 1 && history.Head > _cursor)
        {
            // Events after the cursor were trimmed before we could read them.
            WriteReset(output, history.Epoch, history.Head, SseResetReasons.Retention);
            return false;
        }

        foreach (var e in history.Events)
        {
            if (e.Sequence != _cursor + 1 || e.Sequence > upTo)
            {
                continue;
            }

            Write(output, e);
            _metrics.Replayed();
        }

        if (output.UnflushedBytes > 32 * 1024)
        {
            await FlushAsync(output, cancellationToken).ConfigureAwait(false);
        }

        return history.Events.Count > 0 && _cursor < Math.Min(upTo, history.Head);
    }

    private void Write(PipeWriter output, SseEvent e)
    {
        output.Write(e.Frame);
        _cursor = e.Sequence;
        _metrics.Delivered();
    }

    private void WriteReset(PipeWriter output, string epoch, long head, string reason)
    {
        _epoch = epoch;
        _cursor = head;
        var id = new SseEventId(epoch, head);
        output.Write(SseFrames.Reset(id, reason));
        _metrics.Reset(reason);
        SseLog.Reset(_logger, _stream, reason, id.ToString());
    }

    private void Signal(Kind kind) => _queue.Writer.TryWrite(new Delivery(kind, null));

    private readonly record struct Delivery(Kind Kind, SseEvent? Event);
}
