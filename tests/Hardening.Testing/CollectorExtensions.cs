using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Hardening.Testing;

/// <summary>Short forms of the queries tests make of <see cref="MetricCollector{T}"/> and <see cref="FakeLogCollector"/>.</summary>
public static class CollectorExtensions
{
    /// <summary>
    /// The total of a counter's measurements so far (<see cref="MeasurementExtensions.EvaluateAsCounter{T}"/>), only
    /// those tagged <paramref name="tag"/> = <paramref name="value"/> when a tag is given.
    /// </summary>
    public static long Sum(this MetricCollector<long> collector, string? tag = null, object? value = null)
    {
        ArgumentNullException.ThrowIfNull(collector);
        var measurements = collector.GetMeasurementSnapshot();
        return (tag is null ? measurements : measurements.ContainsTags(new KeyValuePair<string, object?>(tag, value))).EvaluateAsCounter();
    }

    /// <summary>The records logged so far whose event id is named <paramref name="eventName"/>.</summary>
    public static IReadOnlyList<FakeLogRecord> Events(this FakeLogCollector collector, string eventName)
    {
        ArgumentNullException.ThrowIfNull(collector);
        return [.. collector.GetSnapshot().Where(r => r.Id.Name == eventName)];
    }
}
