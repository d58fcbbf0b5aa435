namespace Hardening.Sse;

/// <summary>Settings of the publisher, the stores and every <c>MapServerSentEvents</c> endpoint.</summary>
public sealed class SseOptions
{
    /// <summary>
    /// When true, events live in Redis (7.0 or later), on the app's own <c>IConnectionMultiplexer</c> resolved from DI,
    /// and reach readers on every instance. False (the default) keeps events in this process only, which is right for a
    /// single instance.
    /// </summary>
    public bool UseRedis { get; set; }

    /// <summary>The DI service key of the multiplexer to use; null (the default) for the unkeyed registration.</summary>
    public object? RedisServiceKey { get; set; }

    /// <summary>The longest a publish or a log read waits for Redis (default 2 seconds); past it the publish fails with <see cref="SseStoreUnavailableException"/>.</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Prefix of every Redis key and channel this package uses. Default <c>sse:</c>.</summary>
    public string RedisKeyPrefix { get; set; } = "sse:";

    /// <summary>How many events each stream keeps for replay. Default 1,000 (Redis trims approximately, keeping at least this many).</summary>
    public int RetentionCount { get; set; } = 1000;

    /// <summary>How long events stay replayable. Default 24 hours.</summary>
    public TimeSpan RetentionAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// A Redis stream with no new event for this long is deleted (its epoch too, so late clients get a <c>reset</c>).
    /// Default 7 days; must be at least <see cref="RetentionAge"/>.
    /// </summary>
    public TimeSpan IdleStreamExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Interval of heartbeat comments that keep proxies from closing idle connections. Default 15 seconds.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The <c>retry</c> interval sent to browsers: how long they wait before reconnecting. Default 3 seconds.</summary>
    public TimeSpan ReconnectionInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Live events buffered per connection. When a client reads slower than events arrive and the buffer fills,
    /// the connection is closed with a comment saying why; the client reconnects with its Last-Event-ID and is
    /// replayed from the log. Memory per connection never grows beyond this. Default 1,024.
    /// </summary>
    public int SubscriberQueueCapacity { get; set; } = 1024;

    /// <summary>Events read from the log per round trip while replaying. Default 256.</summary>
    public int ReplayBatchSize { get; set; } = 256;

    /// <summary>Largest accepted <c>data</c> payload, in UTF-16 characters. Default 65,536.</summary>
    public int MaxDataLength { get; set; } = 64 * 1024;
}
