using System.Security.Claims;

namespace Hardening.Rls;

/// <summary>Options of <c>AddHardeningRls</c>.</summary>
public sealed class RlsOptions
{
    /// <summary>The claim that carries the tenant id. Default <c>tenant_id</c>.</summary>
    public string TenantClaimType { get; set; } = "tenant_id";

    /// <summary>The claim that carries the user id. Default <see cref="ClaimTypes.NameIdentifier"/>.</summary>
    public string UserClaimType { get; set; } = ClaimTypes.NameIdentifier;

    /// <summary>The claim that carries roles. Default <see cref="ClaimTypes.Role"/>.</summary>
    public string RoleClaimType { get; set; } = ClaimTypes.Role;

    /// <summary>
    /// The client-supplied tenant header compared with the claim by <c>UseHardeningRls()</c>; an authenticated request
    /// whose header disagrees gets 403. Null disables the check. Default <c>X-Tenant-Id</c>. The header is never used
    /// as the tenant: only the claim is.
    /// </summary>
    public string? TenantHeaderName { get; set; } = "X-Tenant-Id";

    /// <summary>Setting names and value limits of the registered <see cref="TenantDataSource"/>.</summary>
    public TenantDataSourceOptions DataSource { get; } = new();

    /// <summary>What the linter (and its readiness check, <c>AddHardeningRlsLintCheck</c>) lints.</summary>
    public RlsLintOptions Lint { get; } = new();
}
