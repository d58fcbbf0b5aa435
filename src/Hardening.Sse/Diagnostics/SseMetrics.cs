using System.Diagnostics.Metrics;

namespace Hardening.Sse;

/// <summary>The instruments of the <c>Hardening.Sse</c> meter.</summary>
internal sealed class SseMetrics
{
    private static readonly double[] LagBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public SseMetrics(IMeterFactory meterFactory)
    {
        var meter = Meter = meterFactory.Create(SseInstruments.MeterName);
        Connections = meter.CreateUpDownCounter<long>(SseInstruments.Connections, "{connection}", "Open SSE connections.");
        Published = meter.CreateCounter<long>(SseInstruments.EventsPublished, "{event}", "Events appended to the log.");
        Delivered = meter.CreateCounter<long>(SseInstruments.EventsDelivered, "{event}", "Events written to connections, live or replayed.");
        Replayed = meter.CreateCounter<long>(SseInstruments.EventsReplayed, "{event}", "Events written to connections from the log (replay and gap fill).");
        Resets = meter.CreateCounter<long>(SseInstruments.Resets, "{reset}", "reset events sent: the client must re-fetch its state.");
        SlowConsumerDisconnects = meter.CreateCounter<long>(SseInstruments.SlowConsumerDisconnects, "{connection}", "Connections closed because their queue was full.");
        DeliveryLag = meter.CreateHistogram<double>(SseInstruments.DeliveryLag, "s", "Time from publish to write of live events.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
    }

    public Meter Meter { get; }

    public UpDownCounter<long> Connections { get; }

    public Counter<long> Published { get; }

    public Counter<long> Delivered { get; }

    public Counter<long> Replayed { get; }

    public Counter<long> Resets { get; }

    public Counter<long> SlowConsumerDisconnects { get; }

    public Histogram<double> DeliveryLag { get; }

    public void Reset(string reason)
    {
        if (Resets.Enabled)
        {
            Resets.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
    }
}
