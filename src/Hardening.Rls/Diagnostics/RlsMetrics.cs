using System.Diagnostics.Metrics;

namespace Hardening.Rls;

/// <summary>The instruments of this package, created once from <see cref="IMeterFactory"/>.</summary>
internal sealed class RlsMetrics
{
    public const string MeterName = RlsMeters.MeterName;

    private readonly Counter<long> _mismatches;
    private long _lintErrors;
    private long _lintWarnings;
    private int _linted;

    public RlsMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _mismatches = meter.CreateCounter<long>(RlsMeters.TenantMismatches, "{request}", "Requests refused with 403 because the tenant header disagreed with the tenant claim.");
        meter.CreateObservableGauge(RlsMeters.LintFindings, ObserveFindings, "{finding}", "Findings of the latest row-level-security lint run, by level.");
    }

    public void TenantMismatch()
    {
        if (_mismatches.Enabled)
        {
            _mismatches.Add(1);
        }
    }

    public void LintCompleted(RlsLintReport report)
    {
        Interlocked.Exchange(ref _lintErrors, report.Errors);
        Interlocked.Exchange(ref _lintWarnings, report.Warnings);
        Volatile.Write(ref _linted, 1);
    }

    private IEnumerable<Measurement<long>> ObserveFindings()
    {
        if (Volatile.Read(ref _linted) == 0)
        {
            return [];
        }

        return
        [
            new Measurement<long>(Interlocked.Read(ref _lintErrors), new KeyValuePair<string, object?>("level", "error")),
            new Measurement<long>(Interlocked.Read(ref _lintWarnings), new KeyValuePair<string, object?>("level", "warning")),
        ];
    }
}
