using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Hardening.Observability;

/// <summary>Samples the alert signals every <see cref="DiagnosticsOptions.SampleInterval"/> so that windowed rules can be evaluated in-process.</summary>
internal sealed class DiagnosticsSampler(DiagnosisPage page, IOptions<HardeningObservabilityOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        page.Sample();
        using var timer = new PeriodicTimer(options.Value.Diagnostics.SampleInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                page.Sample();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
