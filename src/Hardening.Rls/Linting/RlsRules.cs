namespace Hardening.Rls;

/// <summary>The names of the lint rules (the <see cref="RlsFinding.Rule"/> values).</summary>
public static class RlsRules
{
    /// <summary>Error: the configured application role does not exist.</summary>
    public const string AppRoleMissing = "app_role_missing";

    /// <summary>Error: a table with the tenant column has row-level security disabled.</summary>
    public const string RlsDisabled = "rls_disabled";

    /// <summary>Error: row-level security is enabled but not forced, so the owner bypasses it.</summary>
    public const string RlsNotForced = "rls_not_forced";

    /// <summary>Warning: row-level security is on but no policy exists (every query sees nothing).</summary>
    public const string RlsWithoutPolicy = "rls_without_policy";

    /// <summary>Error: a policy is always true or does not filter on the tenant column.</summary>
    public const string PolicyAlwaysTrue = "policy_always_true";

    /// <summary>Warning: a policy that allows writes has no WITH CHECK.</summary>
    public const string PolicyMissingWithCheck = "policy_missing_with_check";

    /// <summary>Warning: a policy calls a function outside a sub-select, so it runs once per row.</summary>
    public const string PolicyPerRowEvaluation = "policy_per_row_evaluation";

    /// <summary>
    /// Warning: a policy calls a SQL function that PostgreSQL cannot inline (it has a <c>SET</c> clause such as a pinned
    /// <c>search_path</c>, or is <c>SECURITY DEFINER</c>), so every execution calls it and plans its body again.
    /// </summary>
    public const string PolicyHelperNotInlinable = "policy_helper_not_inlinable";

    /// <summary>Error: the application role is a superuser.</summary>
    public const string AppRoleSuperuser = "app_role_superuser";

    /// <summary>Error: the application role has BYPASSRLS.</summary>
    public const string AppRoleBypassRls = "app_role_bypassrls";

    /// <summary>Error: the application role owns a tenant table.</summary>
    public const string AppRoleOwnsTenantTable = "app_role_owns_tenant_table";

    /// <summary>Error: the application role has CREATEROLE, so it can grant itself the tables' owner and switch RLS off.</summary>
    public const string AppRoleCreateRole = "app_role_createrole";

    /// <summary>Error: the application role has REPLICATION, so a replication connection reads every tenant's rows.</summary>
    public const string AppRoleReplication = "app_role_replication";

    /// <summary>Error: the application role owns a function that policies of tenant tables call.</summary>
    public const string AppRoleOwnsPolicyFunction = "app_role_owns_policy_function";

    /// <summary>
    /// Error: the application role is a member (directly or indirectly, with or without INHERIT) of a role that is
    /// superuser or has BYPASSRLS, CREATEROLE or REPLICATION, owns a tenant table or a policy function, or is
    /// <c>pg_execute_server_program</c>, <c>pg_read_server_files</c> or <c>pg_write_server_files</c>.
    /// </summary>
    public const string AppRoleReachesPrivilegedRole = "app_role_reaches_privileged_role";

    /// <summary>Error: a role or database default sets a context setting (<c>ALTER ROLE ... SET app.tenant_id = ...</c>), so "no context" means "some tenant".</summary>
    public const string ContextSettingDefault = "context_setting_default";

    /// <summary>Error: probed as the application role with no tenant context, SELECT, UPDATE or DELETE reached a row.</summary>
    public const string PolicyAdmitsWithoutContext = "policy_admits_without_context";

    /// <summary>Error: probed as the application role with a random tenant's context, SELECT, UPDATE or DELETE reached another tenant's row.</summary>
    public const string PolicyAdmitsOtherTenant = "policy_admits_other_tenant";

    /// <summary>Warning: the policy probe could not run (the linting connection cannot act as the application role).</summary>
    public const string PolicyProbeSkipped = "policy_probe_skipped";

    /// <summary>Error: TRUNCATE (which ignores policies) is granted on a tenant table to the application role or PUBLIC.</summary>
    public const string TruncateGranted = "truncate_granted";

    /// <summary>Error: REFERENCES is granted on a tenant table to the application role or PUBLIC.</summary>
    public const string ReferencesGranted = "references_granted";

    /// <summary>Error: a view that reads a tenant table, directly or through other views, runs as its owner (no <c>security_invoker</c>).</summary>
    public const string ViewWithoutSecurityInvoker = "view_without_security_invoker";

    /// <summary>Error: a materialized view over a tenant table (materialized views have no row-level security).</summary>
    public const string MaterializedViewOverTenantTable = "materialized_view_over_tenant_table";

    /// <summary>Error: a SECURITY DEFINER function without a pinned search_path.</summary>
    public const string SecurityDefinerMutableSearchPath = "security_definer_mutable_search_path";

    /// <summary>Warning: a SECURITY DEFINER function the application role can execute.</summary>
    public const string SecurityDefinerExecutableByApp = "security_definer_executable_by_app";

    /// <summary>Error: a unique constraint or index on a tenant table without the tenant column.</summary>
    public const string UniqueWithoutTenantColumn = "unique_without_tenant_column";

    /// <summary>Error: a foreign key between tenant tables that does not match the tenant column on both sides.</summary>
    public const string ForeignKeyWithoutTenantColumn = "foreign_key_without_tenant_column";

    /// <summary>Error: a partition of a tenant table without RLS, FORCE or a policy (reading it directly bypasses the parent's policy).</summary>
    public const string PartitionWithoutPolicy = "partition_without_policy";

    /// <summary>Error: the tenant column is nullable.</summary>
    public const string TenantColumnNullable = "tenant_column_nullable";

    /// <summary>Warning: no index starts with the tenant column.</summary>
    public const string TenantColumnUnindexed = "tenant_column_unindexed";
}
