namespace Hardening.Sse;

/// <summary>
/// Where events live: assigns sequence numbers, keeps the replay log and notifies live listeners.
/// Narrow on purpose so that another backplane (e.g. StackExchange.Redis) is a small addition.
/// </summary>
internal interface ISseStore : IAsyncDisposable
{
    /// <summary>True when live notifications can be lost without a gap to show it (pub/sub); readers then also poll the log on each heartbeat.</summary>
    bool LiveDeliveryMayDrop { get; }

    /// <summary>
    /// Assigns the next sequence of <paramref name="stream"/>, appends the event and notifies listeners, atomically.
    /// With a <paramref name="deduplicationKey"/> already used on the stream (same epoch, within retention) it appends
    /// nothing and returns the event that key published.
    /// </summary>
    Task<SseEvent> AppendAsync(string stream, string eventType, string data, string? deduplicationKey, CancellationToken cancellationToken);

    /// <summary>The stream's epoch, head and oldest retained sequence, and up to <paramref name="maxCount"/> events after <paramref name="afterSequence"/>.</summary>
    Task<SseHistory> ReadAsync(string stream, long afterSequence, int maxCount, CancellationToken cancellationToken);

    /// <summary>Starts delivering live events of <paramref name="stream"/> to <paramref name="listener"/>; returns once no later event can be missed.</summary>
    Task<IAsyncDisposable> SubscribeAsync(string stream, ISseListener listener, CancellationToken cancellationToken);
}

/// <summary>Receives live events. Called on the publisher's or the backplane's thread: must not block.</summary>
internal interface ISseListener
{
    void OnEvent(SseEvent sseEvent);

    /// <summary>Live delivery may have missed events (backplane reconnected): read from the store after the cursor.</summary>
    void OnCatchUpNeeded();

    /// <summary>The store went away: tell the client to retry later.</summary>
    void OnStoreUnavailable();
}

/// <summary>A read of a stream's log.</summary>
/// <param name="Epoch">The stream's current epoch.</param>
/// <param name="Head">The last assigned sequence (0 when nothing was published in this epoch).</param>
/// <param name="First">The oldest retained sequence (<c>Head + 1</c> when nothing is retained).</param>
/// <param name="Events">Events after the requested sequence, in order.</param>
internal sealed record SseHistory(string Epoch, long Head, long First, IReadOnlyList<SseEvent> Events);
