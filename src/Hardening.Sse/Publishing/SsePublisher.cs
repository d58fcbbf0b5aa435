using Hardening.Sse;
using Microsoft.Extensions.Options;

namespace Hardening.Sse;

/// <summary>
/// Publishes events to streams. Each event gets the next sequence number of its stream, gap-free and strictly
/// increasing across concurrent publishers and (with Redis) across app instances, and is appended to the replay log
/// before the returned task completes. Thread-safe; register once (<c>AddHardeningSse</c>).
/// </summary>
/// <example>
/// <code>
/// app.MapPost("/applications/{id}/status", async (string id, StatusChange change, SsePublisher sse) =&gt;
/// {
///     var published = await sse.PublishAsync($"tenant-{change.TenantId}/applications", "status-changed",
///         JsonSerializer.Serialize(new { id, change.Status }));
///     return Results.Ok(new { eventId = published.Id.ToString() });
/// });
/// </code>
/// </example>
public sealed class SsePublisher
{
    private readonly ISseStore _store;
    private readonly SseMetrics _metrics;
    private readonly SseOptions _options;

    internal SsePublisher(ISseStore store, SseMetrics metrics, IOptions<SseOptions> options)
    {
        _store = store;
        _metrics = metrics;
        _options = options.Value;
    }

    /// <summary>
    /// Appends an event to <paramref name="stream"/> and delivers it to every connected reader of the stream.
    /// The returned event carries the assigned id; once the task completes, the event is in the replay log.
    /// </summary>
    /// <param name="stream">The stream, e.g. <c>tenant-42/applications</c> (letters, digits and <c>- _ . : /</c>; at most 200).</param>
    /// <param name="eventType">The SSE event name (no line breaks; not <c>reset</c>, which this package sends itself).</param>
    /// <param name="data">The payload, typically JSON. Lines are separated by <c>\n</c>; a CR is rejected because SSE cannot carry it.</param>
    /// <param name="cancellationToken">Cancels waiting for the store (the event may still have been appended).</param>
    /// <exception cref="ArgumentException">The stream name, event type or data is invalid; the message says which and why.</exception>
    /// <exception cref="SseStoreUnavailableException">The store could not be reached; the event was not published.</exception>
    public Task<SseEvent> PublishAsync(string stream, string eventType, string data, CancellationToken cancellationToken = default) =>
        PublishAsync(stream, eventType, data, null, cancellationToken);

    /// <summary>
    /// Appends an event to <paramref name="stream"/> once per <paramref name="deduplicationKey"/>: publishing again
    /// with a key already used on the stream appends nothing and returns the event the first call published (same
    /// id). For a relay that publishes rows of a transactional outbox and marks them afterwards: a row published again
    /// after a crash between the publish and the mark is not delivered twice. Keys are remembered for
    /// <see cref="SseOptions.RetentionAge"/> (and while the stream's data lasts: a store that lost its data forgets them too).
    /// </summary>
    /// <param name="stream">The stream, as for <see cref="PublishAsync(string, string, string, CancellationToken)"/>.</param>
    /// <param name="eventType">The SSE event name.</param>
    /// <param name="data">The payload.</param>
    /// <param name="deduplicationKey">1-200 characters naming this event within the stream (e.g. the outbox row id); null publishes unconditionally.</param>
    /// <param name="cancellationToken">Cancels waiting for the store (the event may still have been appended).</param>
    /// <exception cref="ArgumentException">The stream name, event type, data or key is invalid; the message says which and why.</exception>
    /// <exception cref="SseStoreUnavailableException">The store could not be reached; the event was not published.</exception>
    public async Task<SseEvent> PublishAsync(string stream, string eventType, string data, string? deduplicationKey, CancellationToken cancellationToken = default)
    {
        if (deduplicationKey is not null && (deduplicationKey.Length is 0 or > 200 || deduplicationKey.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0))
        {
            throw new ArgumentException($"Cannot publish: the deduplication key must be 1-200 characters without CR, LF or NUL; got {deduplicationKey.Length} characters.", nameof(deduplicationKey));
        }

        if (SseStreamName.Problem(stream) is { } problem)
        {
            throw new ArgumentException($"Cannot publish: {problem}.", nameof(stream));
        }

        ValidateEventType(eventType);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length > _options.MaxDataLength)
        {
            throw new ArgumentException($"Cannot publish: the data is {data.Length} characters long; SseOptions.MaxDataLength is {_options.MaxDataLength}. Send a reference to the record instead.", nameof(data));
        }

        if (data.Contains('\r', StringComparison.Ordinal))
        {
            throw new ArgumentException("Cannot publish: the data contains a carriage return (CR), which Server-Sent Events cannot carry (browsers turn it into a line break). Use '\\n' line breaks or encode the payload as JSON.", nameof(data));
        }

        SseEvent published;
        try
        {
            published = await _store.AppendAsync(stream, eventType, data, deduplicationKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (SseStoreFailure.IsStoreFailure(ex))
        {
            throw new SseStoreUnavailableException($"The event for stream '{stream}' was not published: the event store is unavailable ({ex.Message}). Retry when it is back.", ex);
        }

        _metrics.Published();
        return published;
    }

    private static void ValidateEventType(string eventType)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        if (eventType.Length > 100)
        {
            throw new ArgumentException($"Cannot publish: the event type is {eventType.Length} characters long; the limit is 100.", nameof(eventType));
        }

        if (eventType.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new ArgumentException("Cannot publish: the event type contains CR, LF or NUL, which would break the SSE frame.", nameof(eventType));
        }

        if (eventType == SseResetReasons.EventType)
        {
            throw new ArgumentException("Cannot publish: the event type 'reset' is reserved for the package's own reset events; choose another name.", nameof(eventType));
        }
    }
}

/// <summary>Which exceptions mean "the store is down" (as opposed to a bug).</summary>
internal static class SseStoreFailure
{
    public static bool IsStoreFailure(Exception ex) =>
        ex is StackExchange.Redis.RedisException or TimeoutException or SseStoreUnavailableException;
}
