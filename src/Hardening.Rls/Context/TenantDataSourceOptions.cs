namespace Hardening.Rls;

/// <summary>Options of <see cref="TenantDataSource"/>: which PostgreSQL settings carry the context, and value limits.</summary>
public sealed class TenantDataSourceOptions
{
    /// <summary>The custom setting that carries the tenant id. Default <c>app.tenant_id</c>.</summary>
    public string TenantSetting { get; set; } = "app.tenant_id";

    /// <summary>The custom setting that carries the user id (empty string when there is none). Default <c>app.user_id</c>.</summary>
    public string UserSetting { get; set; } = "app.user_id";

    /// <summary>The custom setting that carries the roles, comma-separated (empty when none). Default <c>app.roles</c>.</summary>
    public string RolesSetting { get; set; } = "app.roles";

    /// <summary>The longest accepted tenant id, user id or single role, in characters. Default 256.</summary>
    public int MaxValueLength { get; set; } = 256;

    /// <summary>The most roles accepted in one context. Default 64.</summary>
    public int MaxRoles { get; set; } = 64;
}
