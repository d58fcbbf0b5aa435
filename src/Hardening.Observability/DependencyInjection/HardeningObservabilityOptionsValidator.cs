using Hardening.Observability;
using Microsoft.Extensions.Options;

namespace Hardening.Observability;

/// <summary>Validates <see cref="HardeningObservabilityOptions"/> at start-up; each message names the option and the allowed values.</summary>
internal sealed class HardeningObservabilityOptionsValidator : IValidateOptions<HardeningObservabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, HardeningObservabilityOptions options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static IEnumerable<string> Problems(HardeningObservabilityOptions o)
    {
        const string Name = nameof(HardeningObservabilityOptions);
        if (o.Prometheus.MaxSeriesPerInstrument < 1)
        {
            yield return $"{Name}.Prometheus.MaxSeriesPerInstrument is {o.Prometheus.MaxSeriesPerInstrument}; it must be at least 1.";
        }

        if (o.Prometheus.Meters.Count == 0 || o.Prometheus.Meters.Any(string.IsNullOrWhiteSpace))
        {
            yield return $"{Name}.Prometheus.Meters must name at least one meter and no empty names (default: HardeningMeters.All).";
        }

        if (o.TenantUsage.MaxTenants < 1)
        {
            yield return $"{Name}.TenantUsage.MaxTenants is {o.TenantUsage.MaxTenants}; it must be at least 1.";
        }

        if (o.Readiness.PostgreSqlTimeout <= TimeSpan.Zero)
        {
            yield return $"{Name}.Readiness.PostgreSqlTimeout is {o.Readiness.PostgreSqlTimeout}; it must be positive (default 2 seconds).";
        }

        if (o.Diagnostics.SampleInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"{Name}.Diagnostics.SampleInterval is {o.Diagnostics.SampleInterval}; it must be at least 1 second (default 30 seconds).";
        }

        if (o.Diagnostics.MaxSeriesPerMetric < 1)
        {
            yield return $"{Name}.Diagnostics.MaxSeriesPerMetric is {o.Diagnostics.MaxSeriesPerMetric}; it must be at least 1 (default 50).";
        }

        if (o.Diagnostics.PercentileWindow <= TimeSpan.Zero)
        {
            yield return $"{Name}.Diagnostics.PercentileWindow is {o.Diagnostics.PercentileWindow}; it must be positive (default 5 minutes).";
        }

        string? alerts = null;
        try
        {
            o.Alerts.Validate();
        }
        catch (ArgumentException e)
        {
            alerts = $"{Name}.Alerts: {e.Message}";
        }

        if (alerts is not null)
        {
            yield return alerts;
        }
    }
}
