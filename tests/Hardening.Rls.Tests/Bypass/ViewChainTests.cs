using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Bypass;

/// <summary>
/// Views over views over a tenant table, each with or without <c>security_invoker</c>, built in different shapes
/// (plain, sub-select, join, UNION ALL), the outermost sometimes a materialized view. The table is read as the owner
/// of the view right above it unless that view is <c>security_invoker</c> (an invoker view reads as the querying user
/// even inside an owner-rights view), so a chain leaks when its bottom view runs as its owner, and then every
/// owner-rights view stacked on it leaks too; a materialized view is filled as its owner whatever the views below say.
/// The oracle reads the outermost relation as the application role under tenant A; the linter must name exactly those
/// views, and report something exactly when the oracle sees tenant B's row.
/// </summary>
public sealed class ViewChainTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>
{
    private static readonly string[] Shapes =
    [
        "SELECT * FROM {below}",
        "SELECT * FROM (SELECT * FROM {below}) s WHERE true",
        "SELECT x.* FROM {below} x JOIN (SELECT 1 AS one) o ON true",
        "SELECT * FROM {below} UNION ALL SELECT * FROM {below} WHERE false",
    ];

    public sealed record Level(bool SecurityInvoker, int Shape);

    public sealed record Case(Level[] Levels, bool OutermostMaterialized)
    {
        public override string ToString() =>
            string.Join(" <- ", Levels.Select(l => $"{(l.SecurityInvoker ? "invoker" : "OWNER")}/{l.Shape}")) + (OutermostMaterialized ? " <- MATERIALIZED" : "");
    }

    public static class Cases
    {
        public static Arbitrary<Case> Arbitrary() =>
            (from depth in Gen.Choose(1, 4)
             from levels in Gen.ArrayOf(Gen.Zip(Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false))), Gen.Choose(0, Shapes.Length - 1)).Select(t => new Level(t.Item1, t.Item2)), depth)
             from mat in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
             select new Case(levels, mat)).ToArbitrary();
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void Every_owner_rights_view_above_a_tenant_table_is_reported_at_any_depth(Case c) => RunAsync(c).GetAwaiter().GetResult();

    private async Task RunAsync(Case c)
    {
        var app = fixture.Role;
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        var id = Guid.NewGuid().ToString("N")[..10];
        await using var conn = await MigratedDatabaseFixture.OpenAsync(fixture.OwnerConnectionString);
        await using var tx = await conn.BeginTransactionAsync();
        var sql = new List<string> { $"INSERT INTO jobs (tenant_id, id, title) VALUES ('{a}', gen_random_uuid(), 'a'), ('{b}', gen_random_uuid(), 'b')" };
        var below = "public.jobs";
        var ownerRights = new List<string>();
        for (var i = 0; i < c.Levels.Length; i++)
        {
            var name = $"chain_{id}_{i}";
            sql.Add($"CREATE VIEW public.{name} WITH (security_invoker = {(c.Levels[i].SecurityInvoker ? "true" : "false")}) AS {Shapes[c.Levels[i].Shape].Replace("{below}", below, StringComparison.Ordinal)}");
            sql.Add($"GRANT SELECT ON public.{name} TO {app}");
            if (!c.Levels[i].SecurityInvoker)
            {
                ownerRights.Add($"public.{name}");
            }

            below = $"public.{name}";
        }

        if (c.OutermostMaterialized)
        {
            var name = $"chain_{id}_mat";
            sql.Add($"CREATE MATERIALIZED VIEW public.{name} AS SELECT * FROM {below}");
            sql.Add($"GRANT SELECT ON public.{name} TO {app}");
            ownerRights.Add($"public.{name}");
            below = $"public.{name}";
        }

        await using (var setup = new NpgsqlCommand(string.Join(";\n", sql), conn, tx))
        {
            await setup.ExecuteNonQueryAsync();
        }

        // Oracle: the application role under tenant A reads the outermost relation.
        await using (var read = new NpgsqlCommand($"SAVEPOINT oracle; SET LOCAL ROLE {app}; SELECT set_config('app.tenant_id', '{a}', true)", conn, tx))
        {
            await read.ExecuteNonQueryAsync();
        }

        long leaked;
        await using (var count = new NpgsqlCommand($"SELECT count(*) FROM {below} WHERE tenant_id <> '{a}'", conn, tx))
        {
            leaked = (long)(await count.ExecuteScalarAsync())!;
        }

        await using (var back = new NpgsqlCommand("ROLLBACK TO SAVEPOINT oracle", conn, tx))
        {
            await back.ExecuteNonQueryAsync();
        }

        var findings = (await fixture.LintAsync(conn))
            .Where(f => f.Rule is RlsRules.ViewWithoutSecurityInvoker or RlsRules.MaterializedViewOverTenantTable && f.Object.StartsWith($"public.chain_{id}_", StringComparison.Ordinal))
            .ToList();
        await tx.RollbackAsync();

        var expected = c.Levels[0].SecurityInvoker ? ownerRights.Where(v => v.EndsWith("_mat", StringComparison.Ordinal)) : ownerRights;
        Assert.True(expected.Order().SequenceEqual(findings.Select(f => f.Object).Distinct().Order()), $"{c}: expected [{string.Join(", ", expected)}], reported [{string.Join(", ", findings.Select(f => f.Object).Distinct())}]");
        Assert.True(leaked > 0 == findings.Count > 0, $"{c}: the app role saw {leaked} of tenant B's rows; reported [{string.Join(", ", findings.Select(f => f.Object))}]");
        Assert.All(findings, f => Assert.Equal(RlsFindingLevel.Error, f.Level));
    }
}
