using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Hardening.Sse;

/// <summary>
/// One-instance store: per-stream lock, a contiguous log trimmed by count and age, listeners called inside the lock
/// so that every listener sees events in sequence order.
/// </summary>
internal sealed class InMemorySseStore(IOptions<SseOptions> options, TimeProvider time) : ISseStore
{
    private readonly ConcurrentDictionary<string, StreamLog> _streams = new(StringComparer.Ordinal);
    private readonly SseOptions _options = options.Value;

    public bool LiveDeliveryMayDrop => false;

    public Task<SseEvent> AppendAsync(string stream, string eventType, string data, string? deduplicationKey, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var log = Get(stream);
        SseEvent e;
        lock (log)
        {
            var now = time.GetUtcNow();
            Trim(log, now);
            if (deduplicationKey is not null && log.Published.TryGetValue(deduplicationKey, out var earlier))
            {
                return Task.FromResult(earlier);
            }

            e = new SseEvent(stream, log.Epoch, log.Head + 1, eventType, data, now);
            log.Head = e.Sequence;
            log.Events.Add(e);
            if (deduplicationKey is not null)
            {
                log.Published[deduplicationKey] = e;
            }

            Trim(log, now);
            foreach (var listener in log.Listeners)
            {
                listener.OnEvent(e);
            }
        }

        return Task.FromResult(e);
    }

    public Task<SseHistory> ReadAsync(string stream, long afterSequence, int maxCount, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var log = Get(stream);
        lock (log)
        {
            Trim(log, time.GetUtcNow());
            var first = log.Head - log.Count + 1;
            var from = Math.Max(afterSequence + 1, first);
            var take = (int)Math.Clamp(log.Head - from + 1, 0, maxCount);
            var events = new SseEvent[take];
            if (take > 0)
            {
                log.Events.CopyTo(log.Start + (int)(from - first), events, 0, take);
            }

            return Task.FromResult(new SseHistory(log.Epoch, log.Head, first, events));
        }
    }

    public Task<IAsyncDisposable> SubscribeAsync(string stream, ISseListener listener, CancellationToken cancellationToken)
    {
        var log = Get(stream);
        lock (log)
        {
            log.Listeners = [.. log.Listeners, listener];
        }

        return Task.FromResult<IAsyncDisposable>(new Subscription(log, listener));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private StreamLog Get(string stream) => _streams.GetOrAdd(stream, static _ => new StreamLog(SseEventId.NewEpoch()));

    private void Trim(StreamLog log, DateTimeOffset now)
    {
        var removable = Math.Max(0, log.Count - _options.RetentionCount);
        var cutoff = now - _options.RetentionAge;
        while (removable < log.Count && log.Events[log.Start + removable].PublishedAt < cutoff)
        {
            removable++;
        }

        if (removable == 0)
        {
            return;
        }

        for (var i = 0; i < removable; i++)
        {
            log.Events[log.Start + i] = null!;
        }

        // A key is remembered as long as its event is retained (as on Redis, where it expires with RetentionAge).
        if (log.Published.Count > 0)
        {
            var first = log.Head - log.Count + removable + 1;
            foreach (var (key, published) in log.Published)
            {
                if (published.Sequence < first)
                {
                    log.Published.Remove(key);
                }
            }
        }

        log.Start += removable;
        if (log.Start > 1024 && log.Start > log.Events.Count / 2)
        {
            log.Events.RemoveRange(0, log.Start);
            log.Start = 0;
        }
    }

    private sealed class StreamLog(string epoch)
    {
        public string Epoch { get; } = epoch;

        public long Head { get; set; }

        public List<SseEvent> Events { get; } = [];

        public int Start { get; set; }

        public int Count => Events.Count - Start;

        public ISseListener[] Listeners { get; set; } = [];

        /// <summary>Deduplication keys of retained events.</summary>
        public Dictionary<string, SseEvent> Published { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Subscription(StreamLog log, ISseListener listener) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            lock (log)
            {
                log.Listeners = [.. log.Listeners.Where(l => !ReferenceEquals(l, listener))];
            }

            return ValueTask.CompletedTask;
        }
    }
}
