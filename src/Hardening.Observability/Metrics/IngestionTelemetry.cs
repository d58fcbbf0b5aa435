using System.Diagnostics.Metrics;
using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>
/// The ingestion metric preset on meter <see cref="HardeningMeters.Ingestion"/>: résumé parse duration (seconds,
/// buckets 0.1, 0.5, 1, 5, 10), processed résumés, failures by bounded reason, OCR fallbacks, duplicate hits and the
/// depth of each ingestion queue. Resolve it from DI after <c>AddHardeningObservability</c>.
/// </summary>
/// <example>
/// <code>
/// var started = Stopwatch.GetTimestamp();
/// var resume = await parser.ParseAsync(file);
/// ingestion.RecordParseDuration(Stopwatch.GetElapsedTime(started));
/// ingestion.RecordProcessed();
/// </code>
/// </example>
public sealed class IngestionTelemetry
{
    /// <summary>The most queues <see cref="TrackQueue"/> accepts, so the <c>queue</c> label stays bounded.</summary>
    public const int MaxQueues = 32;

    private readonly IngestionMetrics _metrics;
    private readonly Lock _queuesGate = new();
    private KeyValuePair<string, Func<long>>[] _queues = [];

    /// <summary>Creates the preset's instruments from <paramref name="meterFactory"/>.</summary>
    public IngestionTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _metrics = new IngestionMetrics(meterFactory, ObserveQueues);
    }

    /// <summary>Records the time one résumé took to parse.</summary>
    public void RecordParseDuration(TimeSpan duration) => _metrics.ParseDuration(duration.TotalSeconds);

    /// <summary>Records the time one résumé took to parse, in seconds.</summary>
    public void RecordParseDuration(double seconds) => _metrics.ParseDuration(seconds);

    /// <summary>Counts one résumé that finished ingestion (successfully or not): the denominator of the failure rate.</summary>
    public void RecordProcessed() => _metrics.Processed();

    /// <summary>Counts one failed ingestion.</summary>
    public void RecordFailure(IngestionFailureReason reason) => _metrics.Failure(reason);

    /// <summary>Counts one résumé that fell back to OCR.</summary>
    public void RecordOcrFallback() => _metrics.OcrFallback();

    /// <summary>Counts one duplicate hit.</summary>
    public void RecordDuplicate() => _metrics.Duplicate();

    /// <summary>
    /// Reports the depth of <paramref name="queue"/> by calling <paramref name="depth"/> at each collection. Dispose the
    /// result to stop. Names are 1-64 characters of <c>a-z 0-9 _ - .</c>; at most <see cref="MaxQueues"/> queues.
    /// </summary>
    public IDisposable TrackQueue(string queue, Func<long> depth)
    {
        ArgumentNullException.ThrowIfNull(depth);
        if (string.IsNullOrEmpty(queue) || queue.Length > 64 || !queue.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '.'))
        {
            throw new ArgumentException($"Queue name '{queue}' is not valid; use 1-64 characters of a-z, 0-9, '_', '-' and '.', such as 'resumes'.", nameof(queue));
        }

        lock (_queuesGate)
        {
            if (_queues.Any(q => q.Key == queue))
            {
                throw new InvalidOperationException($"Queue '{queue}' is already tracked; dispose the earlier registration first.");
            }

            if (_queues.Length >= MaxQueues)
            {
                throw new InvalidOperationException($"At most {MaxQueues} ingestion queues can be tracked, so that the 'queue' label stays bounded.");
            }

            _queues = [.. _queues, new(queue, depth)];
        }

        return new QueueRegistration(this, queue);
    }

    private IEnumerable<Measurement<long>> ObserveQueues()
    {
        var queues = Volatile.Read(ref _queues);
        var result = new List<Measurement<long>>(queues.Length);
        foreach (var (name, depth) in queues)
        {
            long value;
            try
            {
                value = depth();
            }
#pragma warning disable CA1031 // A failing depth callback must not break the whole scrape; the queue is left out.
            catch (Exception)
#pragma warning restore CA1031
            {
                continue;
            }

            result.Add(new Measurement<long>(value, new KeyValuePair<string, object?>("queue", name)));
        }

        return result;
    }

    private void Untrack(string queue)
    {
        lock (_queuesGate)
        {
            _queues = [.. _queues.Where(q => q.Key != queue)];
        }
    }

    private sealed class QueueRegistration(IngestionTelemetry owner, string queue) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Untrack(queue);
            }
        }
    }
}
