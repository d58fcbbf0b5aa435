namespace Hardening.Rls;

/// <summary>What <see cref="RlsLinter"/> checks.</summary>
public sealed class RlsLintOptions
{
    /// <summary>The role the application connects as; null means the connection's <c>current_user</c>.</summary>
    public string? AppRole { get; set; }

    /// <summary>The column that marks a table as a tenant table. Default <c>tenant_id</c>.</summary>
    public string TenantColumn { get; set; } = "tenant_id";

    /// <summary>The setting that carries the tenant id (as in <c>TenantDataSourceOptions</c>). Default <c>app.tenant_id</c>.</summary>
    public string TenantSetting { get; set; } = "app.tenant_id";

    /// <summary>The setting that carries the user id. Default <c>app.user_id</c>.</summary>
    public string UserSetting { get; set; } = "app.user_id";

    /// <summary>The setting that carries the roles. Default <c>app.roles</c>.</summary>
    public string RolesSetting { get; set; } = "app.roles";

    /// <summary>
    /// Whether to probe every tenant table as the application role, inside a savepoint that is rolled back: with no
    /// context and with a random tenant's context, SELECT, UPDATE and DELETE must not reach a row. Default true.
    /// The linting connection must be the application role, a member of it or a superuser. Skipped when the role is a
    /// superuser or has BYPASSRLS (no policy applies to it; that is reported instead).
    /// </summary>
    public bool ProbePolicies { get; set; } = true;

    /// <summary>Schemas to check; empty means every non-system schema.</summary>
    public IList<string> Schemas { get; } = [];
}
