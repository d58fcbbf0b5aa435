using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hardening.Observability;

/// <summary>
/// Samples the alert signals every <see cref="DiagnosticsOptions.SampleInterval"/> so that windowed rules can be evaluated
/// in-process. A failed sample (an app's observable callback that throws) is logged and the next one runs: an exception
/// leaving a background service would stop the app's host.
/// </summary>
internal sealed class DiagnosticsSampler(DiagnosisPage page, PrometheusExporter exporter, IOptions<HardeningObservabilityOptions> options, TimeProvider time, ILogger<DiagnosticsSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        SampleOnce();
        using var timer = new PeriodicTimer(options.Value.Diagnostics.SampleInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                SampleOnce();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void SampleOnce()
    {
        try
        {
            page.Sample();
        }
        catch (Exception e)
        {
            ObservabilityLog.SampleFailed(logger, e);
        }

        if (exporter.TakeCallbackFailure() is { } failure)
        {
            ObservabilityLog.ObservableCallbackFailed(logger, failure);
        }
    }
}
