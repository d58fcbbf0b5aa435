namespace Hardening.Rls;

/// <summary>The tenant (and optionally the user and roles) that a unit of database work runs for.</summary>
/// <remarks>
/// In ASP.NET Core the scoped <see cref="ITenantContext"/> registered by <c>AddHardeningRls</c> reads the
/// authenticated claims; <see cref="TenantId"/> is null when the request carries no tenant claim, and
/// <see cref="TenantDataSource"/> then refuses to run.
/// </remarks>
public interface ITenantContext
{
    /// <summary>The tenant id, or null when there is none (the data source then throws <see cref="MissingTenantException"/>).</summary>
    string? TenantId { get; }

    /// <summary>The user id, or null.</summary>
    string? UserId { get; }

    /// <summary>The user's roles (empty when none).</summary>
    IReadOnlyList<string> Roles { get; }
}
