using System.Diagnostics.Metrics;
using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>
/// Per-tenant usage counters on meter <see cref="HardeningMeters.Tenancy"/>, opt-in through
/// <see cref="TenantUsageOptions.Enabled"/>. The first <see cref="TenantUsageOptions.MaxTenants"/> distinct tenants
/// get their own <c>tenant</c> label; every later one is counted under <c>_OTHER</c>, so an instrument never has more
/// than MaxTenants + 1 series. When disabled every call is a no-op.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddHardeningObservability(o => { o.TenantUsage.Enabled = true; o.TenantUsage.MaxTenants = 500; });
/// tenantUsage.RecordRequest(tenantId);
/// </code>
/// </example>
public sealed class TenantUsageTelemetry
{
    private readonly TenantUsageMetrics _metrics;

    /// <summary>Creates the preset (instruments only when <paramref name="options"/> enables it).</summary>
    public TenantUsageTelemetry(IMeterFactory meterFactory, TenantUsageOptions options)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxTenants < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxTenants, "TenantUsageOptions.MaxTenants must be at least 1.");
        }

        _metrics = new TenantUsageMetrics(meterFactory, options);
    }

    /// <summary>True when per-tenant usage is recorded.</summary>
    public bool IsEnabled => _metrics.IsEnabled;

    /// <summary>Counts one request for <paramref name="tenantId"/>.</summary>
    public void RecordRequest(string tenantId) => _metrics.Request(Validate(tenantId));

    /// <summary>Counts <paramref name="count"/> ingested résumés for <paramref name="tenantId"/>.</summary>
    public void RecordResumesIngested(string tenantId, long count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _metrics.Resumes(Validate(tenantId), count);
    }

    private static string Validate(string tenantId)
    {
        if (string.IsNullOrEmpty(tenantId) || tenantId.Length > 128)
        {
            throw new ArgumentException("The tenant id must be 1-128 characters.", nameof(tenantId));
        }

        return tenantId;
    }
}
