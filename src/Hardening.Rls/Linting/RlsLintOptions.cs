namespace Hardening.Rls.Linting;

/// <summary>What <see cref="RlsLinter"/> checks.</summary>
public sealed class RlsLintOptions
{
    /// <summary>The role the application connects as; null means the connection's <c>current_user</c>.</summary>
    public string? AppRole { get; set; }

    /// <summary>The column that marks a table as a tenant table. Default <c>tenant_id</c>.</summary>
    public string TenantColumn { get; set; } = "tenant_id";

    /// <summary>Schemas to check; empty means every non-system schema.</summary>
    public IList<string> Schemas { get; } = [];
}
