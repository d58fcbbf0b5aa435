using System.Net.ServerSentEvents;

namespace Hardening.Sse;

/// <summary>
/// One published event: its stream, its place in the stream (<see cref="Epoch"/> and <see cref="Sequence"/>),
/// its type and its data. Immutable; the same instance is shared by every connection that delivers it.
/// </summary>
public sealed class SseEvent
{
    private byte[]? _frame;

    internal SseEvent(string stream, string epoch, long sequence, string eventType, string data, DateTimeOffset publishedAt)
    {
        Stream = stream;
        Epoch = epoch;
        Sequence = sequence;
        EventType = eventType;
        Data = data;
        PublishedAt = publishedAt;
    }

    /// <summary>The stream the event belongs to, e.g. <c>tenant-42/applications</c>.</summary>
    public string Stream { get; }

    /// <summary>The stream's epoch when the event was published; it changes only when the stream's history is lost.</summary>
    public string Epoch { get; }

    /// <summary>The event's sequence number in its stream: 1, 2, 3, ... with no gaps within an epoch.</summary>
    public long Sequence { get; }

    /// <summary>The SSE <c>event</c> field (the browser's event name).</summary>
    public string EventType { get; }

    /// <summary>The SSE <c>data</c> payload (lines separated by <c>\n</c>).</summary>
    public string Data { get; }

    /// <summary>When the publisher's clock stamped the event.</summary>
    public DateTimeOffset PublishedAt { get; }

    /// <summary>The SSE <c>id</c> field: <c>&lt;epoch&gt;-&lt;sequence&gt;</c>.</summary>
    public SseEventId Id => new(Epoch, Sequence);

    /// <inheritdoc />
    public override string ToString() => $"{Stream} {Id} {EventType}";

    /// <summary>The encoded frame, computed once and shared by every connection.</summary>
    internal byte[] Frame => _frame ??= SseFrames.Encode(new SseItem<string>(Data, EventType) { EventId = Id.ToString() });
}
