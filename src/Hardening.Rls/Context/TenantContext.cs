namespace Hardening.Rls;

/// <summary>An explicit tenant context, for background jobs and tests (web requests use the claim-based one).</summary>
/// <example>
/// <code>
/// await using var session = await tenantDb.OpenSessionAsync(new TenantContext(tenantId, userId: "u-42"));
/// </code>
/// </example>
public sealed class TenantContext : ITenantContext
{
    /// <summary>Creates a context for <paramref name="tenantId"/>; values are checked when the data source uses them.</summary>
    /// <param name="tenantId">The tenant id (required, not empty).</param>
    /// <param name="userId">The user id, or null.</param>
    /// <param name="roles">The user's roles, or null for none.</param>
    /// <exception cref="MissingTenantException"><paramref name="tenantId"/> is null or empty.</exception>
    public TenantContext(string tenantId, string? userId = null, IReadOnlyList<string>? roles = null)
    {
        if (string.IsNullOrEmpty(tenantId))
        {
            throw new MissingTenantException("A TenantContext needs a non-empty tenant id.");
        }

        TenantId = tenantId;
        UserId = userId;
        Roles = roles ?? [];
    }

    /// <inheritdoc />
    public string TenantId { get; }

    /// <inheritdoc />
    public string? UserId { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Roles { get; }
}
