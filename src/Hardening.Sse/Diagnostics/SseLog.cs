using Microsoft.Extensions.Logging;

namespace Hardening.Sse;

/// <summary>Log messages with stable event ids (1xxx: security, 2xxx: delivery, 3xxx: store).</summary>
internal static partial class SseLog
{
    [LoggerMessage(EventId = 1001, EventName = "SseAccessDenied", Level = LogLevel.Warning,
        Message = "SSE connection to stream {Stream} refused by the authorization callback: {Access}.")]
    public static partial void AccessDenied(ILogger logger, string stream, SseAccess access);

    [LoggerMessage(EventId = 1002, EventName = "SseInvalidStreamName", Level = LogLevel.Warning,
        Message = "SSE connection refused: the stream name is invalid ({Reason}).")]
    public static partial void InvalidStreamName(ILogger logger, string reason);

    [LoggerMessage(EventId = 2001, EventName = "SseReset", Level = LogLevel.Information,
        Message = "SSE stream {Stream}: sent reset ({Reason}) with id {Id}; the client must re-fetch its state.")]
    public static partial void Reset(ILogger logger, string stream, string reason, string id);

    [LoggerMessage(EventId = 2002, EventName = "SseSlowConsumer", Level = LogLevel.Warning,
        Message = "SSE stream {Stream}: closed a connection whose queue of {Capacity} events was full (slow consumer); it will resume from its Last-Event-ID.")]
    public static partial void SlowConsumer(ILogger logger, string stream, int capacity);

    [LoggerMessage(EventId = 3001, EventName = "SseStoreUnavailable", Level = LogLevel.Warning,
        Message = "SSE stream {Stream}: the event store is unavailable; the client was told to retry.")]
    public static partial void StoreUnavailable(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 3002, EventName = "SseBackplaneReconnected", Level = LogLevel.Information,
        Message = "SSE Redis backplane reconnected; live connections catch up from the log.")]
    public static partial void BackplaneReconnected(ILogger logger);

    [LoggerMessage(EventId = 3003, EventName = "SseBackplaneDisconnected", Level = LogLevel.Warning,
        Message = "SSE Redis backplane disconnected; live connections are closed with a retry hint.")]
    public static partial void BackplaneDisconnected(ILogger logger);

    [LoggerMessage(EventId = 3004, EventName = "SseSubscriberDisconnected", Level = LogLevel.Warning,
        Message = "SSE Redis subscriber connection lost; live connections stay open and catch up from the log when it is back.")]
    public static partial void SubscriberDisconnected(ILogger logger);

    [LoggerMessage(EventId = 3005, EventName = "SseSubscriberReconnected", Level = LogLevel.Information,
        Message = "SSE Redis subscriber connection resubscribed; live connections catch up from the log.")]
    public static partial void SubscriberReconnected(ILogger logger);

    [LoggerMessage(EventId = 3006, EventName = "SseStreamWentBackwards", Level = LogLevel.Warning,
        Message = "SSE stream {Stream} went backwards in epoch {Epoch} (its newest entries were lost, e.g. by a Redis failover); it moves to a new epoch so that no id is reused, and readers get a reset.")]
    public static partial void StreamWentBackwards(ILogger logger, string stream, string epoch);
}
