using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Observability;

/// <summary>
/// The last result of every readiness check, exported as the gauge <c>hardening.health.check.status</c>
/// (1 healthy, 0.5 degraded, 0 unhealthy) that the PostgreSQL/Redis-down alerts read. Fed by the health-check
/// publisher (every 30 s by default) and by each <c>/health/ready</c> request.
/// </summary>
internal sealed class HealthStatusStore : IHealthCheckPublisher
{
    public const string StatusName = "hardening.health.check.status";

    private readonly ConcurrentDictionary<string, double> _status = new(StringComparer.Ordinal);

    public HealthStatusStore(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(HardeningMeters.Health);
        meter.CreateObservableGauge(StatusName, Observe, description: "Last result of each readiness check: 1 healthy, 0.5 degraded, 0 unhealthy.");
    }

    public void Update(HealthReport report)
    {
        foreach (var (name, entry) in report.Entries)
        {
            _status[name] = entry.Status switch
            {
                HealthStatus.Healthy => 1,
                HealthStatus.Degraded => 0.5,
                _ => 0,
            };
        }
    }

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        Update(report);
        return Task.CompletedTask;
    }

    private IEnumerable<Measurement<double>> Observe() =>
        [.. _status.Select(kv => new Measurement<double>(kv.Value, new KeyValuePair<string, object?>("check", kv.Key)))];
}
