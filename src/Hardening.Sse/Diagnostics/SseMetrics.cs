using System.Diagnostics.Metrics;

namespace Hardening.Sse;

/// <summary>The instruments of this package, created once from <see cref="IMeterFactory"/>.</summary>
internal sealed class SseMetrics
{
    public const string MeterName = SseMeters.MeterName;

    private static readonly double[] LagBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _published;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _resets;
    private readonly Counter<long> _slowConsumerDisconnects;
    private readonly Histogram<double> _deliveryLag;

    public SseMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = Meter = meterFactory.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>(SseMeters.Connections, "{connection}", "Open SSE connections.");
        _published = meter.CreateCounter<long>(SseMeters.EventsPublished, "{event}", "Events appended to the log.");
        _delivered = meter.CreateCounter<long>(SseMeters.EventsDelivered, "{event}", "Events written to connections, live or replayed.");
        _replayed = meter.CreateCounter<long>(SseMeters.EventsReplayed, "{event}", "Events written to connections from the log (replay and gap fill).");
        _resets = meter.CreateCounter<long>(SseMeters.Resets, "{reset}", "reset events sent: the client must re-fetch its state.");
        _slowConsumerDisconnects = meter.CreateCounter<long>(SseMeters.SlowConsumerDisconnects, "{connection}", "Connections closed because their queue was full.");
        _deliveryLag = meter.CreateHistogram<double>(SseMeters.DeliveryLag, "s", "Time from publish to write of live events.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
    }

    /// <summary>The meter instance (tests listen to this one only).</summary>
    public Meter Meter { get; }

    /// <summary>Whether anyone listens to the delivery lag, so callers skip reading the clock when nobody does.</summary>
    public bool DeliveryLagEnabled => _deliveryLag.Enabled;

    // The connection gauge is always kept, so that a listener attached mid-connection never sees it go negative.
    public void ConnectionOpened() => _connections.Add(1);

    public void ConnectionClosed() => _connections.Add(-1);

    public void Published()
    {
        if (_published.Enabled)
        {
            _published.Add(1);
        }
    }

    public void Delivered()
    {
        if (_delivered.Enabled)
        {
            _delivered.Add(1);
        }
    }

    public void Replayed()
    {
        if (_replayed.Enabled)
        {
            _replayed.Add(1);
        }
    }

    public void SlowConsumerDisconnect()
    {
        if (_slowConsumerDisconnects.Enabled)
        {
            _slowConsumerDisconnects.Add(1);
        }
    }

    public void DeliveryLag(double seconds) => _deliveryLag.Record(seconds);

    public void Reset(string reason)
    {
        if (_resets.Enabled)
        {
            _resets.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
    }
}
