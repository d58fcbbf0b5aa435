using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Hardening.Testing;

/// <summary>One recorded measurement.</summary>
public sealed record RecordedMeasurement(string Meter, string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>The tag <paramref name="name"/> as a string, or null.</summary>
    public string? Tag(string name) => Tags.TryGetValue(name, out var v) ? v?.ToString() : null;
}

/// <summary>
/// Records every measurement published by meters whose name matches, using <see cref="MeterListener"/>
/// (a stand-in for <c>MetricCollector&lt;T&gt;</c>, which is not available here).
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<RecordedMeasurement> _measurements = new();

    /// <summary>
    /// Listens to meters named <paramref name="meterName"/>; when <paramref name="meter"/> is given, only that instance;
    /// when <paramref name="scope"/> is given (an <c>IMeterFactory</c>), only meters that factory created. Tests that run
    /// in parallel share meter names, so a test that counts measurements should narrow by instance or scope.
    /// </summary>
    public MetricRecorder(string meterName, Meter? meter = null, object? scope = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(meterName);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName && (meter is null || ReferenceEquals(instrument.Meter, meter))
                && (scope is null || ReferenceEquals(instrument.Meter.Scope, scope)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<float>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<decimal>((i, v, t, _) => Add(i, (double)v, t));
        _listener.SetMeasurementEventCallback<short>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<byte>((i, v, t, _) => Add(i, v, t));
        _listener.Start();
    }

    /// <summary>Everything recorded so far.</summary>
    public IReadOnlyList<RecordedMeasurement> Measurements => [.. _measurements];

    /// <summary>Measurements of one instrument.</summary>
    public IReadOnlyList<RecordedMeasurement> For(string instrument) => [.. _measurements.Where(m => m.Instrument == instrument)];

    /// <summary>Sum of the values of one instrument, optionally filtered by a tag.</summary>
    public double Sum(string instrument, string? tag = null, object? tagValue = null) =>
        _measurements.Where(m => m.Instrument == instrument && (tag is null || Equals(m.Tag(tag), tagValue?.ToString()))).Sum(m => m.Value);

    /// <summary>Polls observable instruments now.</summary>
    public void RecordObservableInstruments() => _listener.RecordObservableInstruments();

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dict = new Dictionary<string, object?>(tags.Length);
        foreach (var kv in tags)
        {
            dict[kv.Key] = kv.Value;
        }

        _measurements.Enqueue(new RecordedMeasurement(instrument.Meter.Name, instrument.Name, value, dict));
    }
}
