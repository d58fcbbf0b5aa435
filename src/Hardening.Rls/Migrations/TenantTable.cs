using Hardening.Shared;
namespace Hardening.Rls;

/// <summary>A tenant table in a <see cref="TenantSchema"/>: its tenant-scoped unique keys, references and partitions.</summary>
public sealed class TenantTable
{
    private readonly List<string[]> _uniques = [];
    private readonly List<(string[] Columns, string Target, string[] TargetColumns)> _references = [];
    private readonly List<string> _partitions = [];

    internal TenantTable(string name, string paramName) => Name = PostgresNames.PlainIdentifier(name, "table", paramName);

    /// <summary>The table name.</summary>
    public string Name { get; }

    internal IReadOnlyList<string[]> Uniques => _uniques;

    internal IReadOnlyList<(string[] Columns, string Target, string[] TargetColumns)> ForeignKeys => _references;

    internal IReadOnlyList<string> PartitionNames => _partitions;

    /// <summary>Adds <c>UNIQUE (tenant_id, columns...)</c>: uniqueness per tenant, so a duplicate never reveals another tenant's row.</summary>
    /// <param name="columns">The key columns, without the tenant column.</param>
    /// <returns>This table.</returns>
    public TenantTable Unique(params string[] columns)
    {
        _uniques.Add(CheckColumns(columns, "unique", nameof(columns)));
        return this;
    }

    /// <summary>
    /// Adds the composite foreign key <c>(tenant_id, columns...) REFERENCES target (tenant_id, targetColumns...)</c>,
    /// so a row can only point at a row of its own tenant. The target gets the matching tenant-scoped unique key.
    /// </summary>
    /// <param name="column">The referencing column.</param>
    /// <param name="targetTable">The referenced tenant table (declared in the same schema model).</param>
    /// <param name="targetColumn">The referenced column. Default <c>id</c>.</param>
    /// <returns>This table.</returns>
    public TenantTable References(string column, string targetTable, string targetColumn = "id")
    {
        _references.Add((CheckColumns([column], "foreign key", nameof(column)), PostgresNames.PlainIdentifier(targetTable, "referenced table", nameof(targetTable)), CheckColumns([targetColumn], "referenced", nameof(targetColumn))));
        return this;
    }

    /// <summary>Declares existing partitions of this (partitioned) table: each gets RLS, FORCE and the policy too, so reading a partition directly does not bypass the policy.</summary>
    /// <param name="partitions">Partition table names.</param>
    /// <returns>This table.</returns>
    public TenantTable Partitions(params string[] partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        foreach (var p in partitions)
        {
            _partitions.Add(PostgresNames.PlainIdentifier(p, "partition", nameof(partitions)));
        }

        return this;
    }

    private static string[] CheckColumns(string[] columns, string role, string paramName)
    {
        ArgumentNullException.ThrowIfNull(columns, paramName);
        if (columns.Length == 0)
        {
            throw new ArgumentException($"A {role} key needs at least one column besides the tenant column.", paramName);
        }

        return [.. columns.Select(c => PostgresNames.UnquotedIdentifier(c, role + " column", paramName))];
    }
}
