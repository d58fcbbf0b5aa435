using Microsoft.Extensions.Logging;

namespace Hardening.Observability;

/// <summary>Security-relevant log events of this package (stable EventIds).</summary>
internal static partial class ObservabilityLog
{
    [LoggerMessage(EventId = 9001, EventName = "MetricsEndpointAnonymous", Level = LogLevel.Warning,
        Message = "The Prometheus endpoint {Path} allows anonymous scrapes (PrometheusExporterOptions.AllowAnonymous = true); anyone who can reach it can read the app's metrics.")]
    public static partial void MetricsEndpointAnonymous(ILogger logger, string path);

    [LoggerMessage(EventId = 9002, EventName = "ScrapeRejected", Level = LogLevel.Warning,
        Message = "A request to {Path} was rejected by the authorization hook.")]
    public static partial void ScrapeRejected(ILogger logger, string path);

    [LoggerMessage(EventId = 9003, EventName = "ObservableCallbackFailed", Level = LogLevel.Warning,
        Message = "Observable instrument callbacks threw while metrics were collected; their series are missing from this collection.")]
    public static partial void ObservableCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 9004, EventName = "SampleFailed", Level = LogLevel.Error,
        Message = "Sampling the alert signals failed; the sampler goes on at the next interval.")]
    public static partial void SampleFailed(ILogger logger, Exception exception);
}
