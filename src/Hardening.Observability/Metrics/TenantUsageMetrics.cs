using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Hardening.Observability;

/// <summary>The per-tenant usage preset's instruments (meter <see cref="HardeningMeters.Tenancy"/>).</summary>
internal sealed class TenantUsageMetrics
{
    public const string MeterName = HardeningMeters.Tenancy;

    public const string RequestsName = "hardening.tenant.requests";
    public const string ResumesName = "hardening.tenant.resumes";

    private readonly ConcurrentDictionary<string, string> _admitted = new(StringComparer.Ordinal);
    private readonly Lock _admitGate = new();
    private readonly int _maxTenants;
    private readonly Counter<long>? _requests;
    private readonly Counter<long>? _resumes;

    public TenantUsageMetrics(IMeterFactory meterFactory, TenantUsageOptions options)
    {
        _maxTenants = options.MaxTenants;
        if (!options.Enabled)
        {
            return;
        }

        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>(RequestsName, unit: "{request}", description: "Requests per tenant (the first MaxTenants tenants; the rest under _OTHER).");
        _resumes = meter.CreateCounter<long>(ResumesName, unit: "{resume}", description: "Résumés ingested per tenant (the first MaxTenants tenants; the rest under _OTHER).");
    }

    public bool IsEnabled => _requests is not null;

    public void Request(string tenant) => Add(_requests, tenant, 1);

    public void Resumes(string tenant, long count) => Add(_resumes, tenant, count);

    /// <summary>The label value for <paramref name="tenant"/>: itself while under the cap, else <c>_OTHER</c>.</summary>
    public string LabelFor(string tenant)
    {
        if (_admitted.TryGetValue(tenant, out var label))
        {
            return label;
        }

        lock (_admitGate)
        {
            if (_admitted.TryGetValue(tenant, out label))
            {
                return label;
            }

            if (_admitted.Count >= _maxTenants)
            {
                return TenantUsageOptions.OtherTenant;
            }

            _admitted[tenant] = tenant;
            return tenant;
        }
    }

    private void Add(Counter<long>? counter, string tenant, long value)
    {
        if (counter is { Enabled: true })
        {
            counter.Add(value, new KeyValuePair<string, object?>("tenant", LabelFor(tenant)));
        }
    }
}
