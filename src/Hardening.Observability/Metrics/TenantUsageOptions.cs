namespace Hardening.Observability;

/// <summary>Per-tenant usage counters: off unless enabled, and capped so that tenant ids cannot explode the series count.</summary>
public sealed class TenantUsageOptions
{
    /// <summary>Record per-tenant usage. Default false (opt-in: tenant ids are labels, which some teams must not export).</summary>
    public bool Enabled { get; set; }

    /// <summary>Distinct tenants that get their own series; later tenants are counted under <see cref="OtherTenant"/>. Default 100.</summary>
    public int MaxTenants { get; set; } = 100;

    /// <summary>The label value for tenants beyond the cap.</summary>
    public const string OtherTenant = "_OTHER";
}
