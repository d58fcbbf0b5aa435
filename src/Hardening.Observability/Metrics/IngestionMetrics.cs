using System.Diagnostics.Metrics;

namespace Hardening.Observability;

/// <summary>The ingestion preset's instruments (meter <see cref="HardeningMeters.Ingestion"/>).</summary>
internal sealed class IngestionMetrics
{
    public const string MeterName = HardeningMeters.Ingestion;

    public const string ParseDurationName = "hardening.ingestion.parse.duration";
    public const string ProcessedName = "hardening.ingestion.resumes";
    public const string FailuresName = "hardening.ingestion.failures";
    public const string OcrFallbacksName = "hardening.ingestion.ocr.fallbacks";
    public const string DuplicatesName = "hardening.ingestion.duplicate.hits";
    public const string QueueDepthName = "hardening.ingestion.queue.depth";

    /// <summary>Bucket advice for parse durations, in seconds.</summary>
    public static readonly IReadOnlyList<double> ParseDurationBuckets = [0.1, 0.5, 1, 5, 10];

    // Boxed once so that recording a failure allocates nothing.
    private static readonly object[] ReasonTags = [.. Enum.GetValues<IngestionFailureReason>().Select(r => (object)ReasonText(r))];

    private readonly Histogram<double> _parseDuration;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _ocrFallbacks;
    private readonly Counter<long> _duplicates;

    public IngestionMetrics(IMeterFactory meterFactory, Func<IEnumerable<Measurement<long>>> queueDepths)
    {
        var meter = meterFactory.Create(MeterName);
        _parseDuration = meter.CreateHistogram<double>(
            ParseDurationName, unit: "s", description: "Time to parse one résumé.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ParseDurationBuckets });
        _processed = meter.CreateCounter<long>(ProcessedName, unit: "{resume}", description: "Résumés that finished ingestion, successfully or not.");
        _failures = meter.CreateCounter<long>(FailuresName, unit: "{resume}", description: "Résumés whose ingestion failed, by reason.");
        _ocrFallbacks = meter.CreateCounter<long>(OcrFallbacksName, unit: "{resume}", description: "Résumés that had no text layer and fell back to OCR.");
        _duplicates = meter.CreateCounter<long>(DuplicatesName, unit: "{resume}", description: "Résumés recognised as duplicates of one already stored.");
        meter.CreateObservableUpDownCounter(QueueDepthName, queueDepths, unit: "{resume}", description: "Résumés waiting in each ingestion queue.");
    }

    public static string ReasonText(IngestionFailureReason reason) => reason switch
    {
        IngestionFailureReason.UnsupportedFormat => "unsupported_format",
        IngestionFailureReason.Corrupt => "corrupt",
        IngestionFailureReason.TooLarge => "too_large",
        IngestionFailureReason.Encrypted => "encrypted",
        IngestionFailureReason.OcrFailed => "ocr_failed",
        IngestionFailureReason.Timeout => "timeout",
        IngestionFailureReason.StorageUnavailable => "storage_unavailable",
        _ => "other",
    };

    public void ParseDuration(double seconds)
    {
        if (_parseDuration.Enabled)
        {
            _parseDuration.Record(seconds);
        }
    }

    public void Processed()
    {
        if (_processed.Enabled)
        {
            _processed.Add(1);
        }
    }

    public void Failure(IngestionFailureReason reason)
    {
        if (_failures.Enabled)
        {
            var index = (int)reason;
            var tag = (uint)index < (uint)ReasonTags.Length ? ReasonTags[index] : ReasonTags[0];
            _failures.Add(1, new KeyValuePair<string, object?>("reason", tag));
        }
    }

    public void OcrFallback()
    {
        if (_ocrFallbacks.Enabled)
        {
            _ocrFallbacks.Add(1);
        }
    }

    public void Duplicate()
    {
        if (_duplicates.Enabled)
        {
            _duplicates.Add(1);
        }
    }
}
