namespace Hardening.Sse;

/// <summary>The meter and instrument names Hardening.Sse publishes (for OpenTelemetry, dashboards and alert rules).</summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(SseMeters.MeterName));
/// </code>
/// </example>
public static class SseMeters
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of this package: <c>Hardening.Sse</c>.</summary>
    public const string MeterName = "Hardening.Sse";

    /// <summary>Up-down counter of open connections (<c>{connection}</c>).</summary>
    public const string Connections = "hardening.sse.connections";

    /// <summary>Counter of events appended to the log (<c>{event}</c>).</summary>
    public const string EventsPublished = "hardening.sse.events.published";

    /// <summary>Counter of events written to connections, live or replayed (<c>{event}</c>).</summary>
    public const string EventsDelivered = "hardening.sse.events.delivered";

    /// <summary>Counter of events written from the log during replay or gap fill (<c>{event}</c>).</summary>
    public const string EventsReplayed = "hardening.sse.events.replayed";

    /// <summary>Counter of <c>reset</c> events sent, tagged <c>reason</c> (<c>{reset}</c>).</summary>
    public const string Resets = "hardening.sse.resets";

    /// <summary>Counter of connections closed because their queue was full (<c>{connection}</c>).</summary>
    public const string SlowConsumerDisconnects = "hardening.sse.slow_consumer.disconnects";

    /// <summary>Histogram of publish-to-write lag of live events, in seconds.</summary>
    public const string DeliveryLag = "hardening.sse.delivery.lag";
}
