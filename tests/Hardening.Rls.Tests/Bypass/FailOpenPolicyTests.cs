using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Bypass;

/// <summary>
/// Policies that mention the tenant column and still let rows through: OR-ed with a context-missing check, coalesce
/// defaults, IS NOT NULL, inequality, extra permissive policies, policies for only some commands, restrictive ones
/// that cannot open anything. Each case is a fresh schema with one tenant table and a generated set of policies. The
/// oracle logs in as the application role and tries it: SELECT, UPDATE/DELETE without WHERE and an INSERT for a
/// tenant that is not the context's, with the setting never set, set to '' and set to a random tenant. The linter
/// must report exactly what the oracle got through.
/// </summary>
public sealed class FailOpenPolicyTests(FailOpenPolicyTests.ProbeDatabase fixture) : IClassFixture<FailOpenPolicyTests.ProbeDatabase>
{
    // {h}: the helper in a sub-select; {s}: the raw setting; {b}: tenant B.
    private static readonly string[] Expressions =
    [
        "tenant_id = {h}",
        "tenant_id = {h} AND {h} IS NOT NULL",
        "tenant_id IN (SELECT {h})",
        "{h} IS NULL OR tenant_id = {h}",
        "tenant_id = {h} OR {s} = ''",
        "tenant_id = {h} OR nullif({s}, '') IS NULL",
        "tenant_id::text = coalesce({s}, tenant_id::text)",
        "tenant_id = coalesce({h}, '{b}'::uuid)",
        "tenant_id = coalesce({h}, tenant_id)",
        "tenant_id IS NOT NULL",
        "tenant_id IS NOT NULL AND {h} IS NOT NULL",
        "tenant_id <> {h}",
        "tenant_id IS DISTINCT FROM {h}",
        "tenant_id = {h} OR title = 'public'",
        "tenant_id = {h} OR true",
    ];

    private static readonly string[] Commands = ["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"];
    private static readonly string[] Targets = ["{app}", "PUBLIC", "{other}"];

    public sealed record Policy(string Expression, string Command, bool Restrictive, string To);

    /// <summary>The table's policies: the tenant policy (possibly rewritten) plus extra ones (INSERT ones get the expression as WITH CHECK, the others as USING, which ALL and UPDATE also use as WITH CHECK).</summary>
    public sealed record Case(string BaseExpression, string BaseCheck, Policy[] Extra)
    {
        public override string ToString() =>
            $"base USING ({BaseExpression}) WITH CHECK ({BaseCheck}); " + string.Join("; ", Extra.Select(p => $"{(p.Restrictive ? "RESTRICTIVE" : "PERMISSIVE")} FOR {p.Command} TO {p.To} {(p.Command == "INSERT" ? "WITH CHECK" : "USING")} ({p.Expression})"));
    }

    public static class Cases
    {
        public static Arbitrary<Case> Arbitrary()
        {
            var policy =
                from e in Gen.Elements(Expressions)
                from c in Gen.Elements(Commands)
                from r in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
                from t in Gen.Frequency((5, Gen.Constant(Targets[0])), (2, Gen.Constant(Targets[1])), (1, Gen.Constant(Targets[2])))
                select new Policy(e, c, r, t);
            var expression = Gen.Frequency((2, Gen.Constant(Expressions[0])), (1, Gen.Elements(Expressions)));
            return (from b in expression
                    from check in expression
                    from n in Gen.Choose(0, 2)
                    from extra in Gen.ArrayOf(policy, n)
                    select new Case(b, check, extra)).ToArbitrary();
        }
    }

    public sealed class ProbeDatabase() : MigratedDatabaseFixture("rls_probe", AtsDatabase.UniqueRole("probe_app"))
    {
        public string OtherRole { get; } = AtsDatabase.UniqueRole("probe_other");

        protected override Task SetUpAsync() => Server.ExecuteAsync($"CREATE ROLE {OtherRole} NOLOGIN", Database);
    }

    [Property(MaxTest = 120, Arbitrary = [typeof(Cases)])]
    public void Lint_reports_a_policy_exactly_when_the_app_role_gets_a_row_through_it(Case c) => RunAsync(c).GetAwaiter().GetResult();

    private async Task RunAsync(Case c)
    {
        var app = fixture.Role;
        var schema = "probe_" + Guid.NewGuid().ToString("N")[..12];
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        string Expand(string e) => e.Replace("{h}", "(SELECT public.current_tenant_id())", StringComparison.Ordinal)
            .Replace("{s}", "current_setting('app.tenant_id', true)", StringComparison.Ordinal).Replace("{b}", b.ToString(), StringComparison.Ordinal);
        string Role(string to) => to.Replace("{app}", app, StringComparison.Ordinal).Replace("{other}", fixture.OtherRole, StringComparison.Ordinal);

        var sql = new List<string>
        {
            $"CREATE SCHEMA {schema}",
            $"CREATE TABLE {schema}.jobs (tenant_id uuid NOT NULL, id uuid NOT NULL, title text NOT NULL, PRIMARY KEY (tenant_id, id))",
            $"INSERT INTO {schema}.jobs VALUES ('{a}', gen_random_uuid(), 'a'), ('{b}', gen_random_uuid(), 'b'), ('{b}', gen_random_uuid(), 'public')",
            $"ALTER TABLE {schema}.jobs ENABLE ROW LEVEL SECURITY",
            $"ALTER TABLE {schema}.jobs FORCE ROW LEVEL SECURITY",
            $"GRANT USAGE ON SCHEMA {schema} TO {app}",
            $"GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.jobs TO {app}",
            $"CREATE POLICY tenant_isolation ON {schema}.jobs FOR ALL TO {app} USING ({Expand(c.BaseExpression)}) WITH CHECK ({Expand(c.BaseCheck)})",
        };
        for (var i = 0; i < c.Extra.Length; i++)
        {
            var p = c.Extra[i];
            sql.Add($"CREATE POLICY extra_{i} ON {schema}.jobs AS {(p.Restrictive ? "RESTRICTIVE" : "PERMISSIVE")} FOR {p.Command} TO {Role(p.To)} {(p.Command == "INSERT" ? "WITH CHECK" : "USING")} ({Expand(p.Expression)})");
        }

        await fixture.Server.ExecuteAsync(string.Join(";\n", sql), fixture.Database);
        try
        {
            var (none, other) = await OracleAsync(schema);
            var options = new RlsLintOptions { AppRole = app, Schemas = { schema } };
            await using var lintConnection = await MigratedDatabaseFixture.OpenAsync(fixture.OwnerConnectionString);
            var findings = (await new RlsLinter(options).LintAsync(lintConnection)).Findings;
            var reportedNone = findings.Any(f => f.Rule == RlsRules.PolicyAdmitsWithoutContext && f.Object == $"{schema}.jobs");
            var reportedOther = findings.Any(f => f.Rule == RlsRules.PolicyAdmitsOtherTenant && f.Object == $"{schema}.jobs");
            Assert.True(none.Count > 0 == reportedNone, $"{c}: without context the app role got through [{string.Join(", ", none)}], reported: {reportedNone}");
            Assert.True(other.Count > 0 == reportedOther, $"{c}: with another tenant's context the app role got through [{string.Join(", ", other)}], reported: {reportedOther}");
            Assert.All(findings.Where(f => f.Rule is RlsRules.PolicyAdmitsWithoutContext or RlsRules.PolicyAdmitsOtherTenant), f =>
            {
                Assert.Equal(RlsFindingLevel.Error, f.Level);
                Assert.Contains("ALTER POLICY", f.Remediation, StringComparison.Ordinal);
            });
        }
        finally
        {
            await fixture.Server.ExecuteAsync($"DROP SCHEMA {schema} CASCADE", fixture.Database);
        }
    }

    /// <summary>Logs in as the application role (fresh session: the setting has never been set) and tries each way in.</summary>
    private async Task<(List<string> None, List<string> Other)> OracleAsync(string schema)
    {
        await using var app = await MigratedDatabaseFixture.OpenAsync(fixture.AppConnectionString);
        var none = new List<string>();
        var other = new List<string>();
        foreach (var (state, value) in new (string, string?)[] { ("unset", null), ("empty", ""), ("other", Guid.NewGuid().ToString()) })
        {
            var into = state == "other" ? other : none;
            var notMine = value is { Length: > 0 } ? $" WHERE tenant_id <> '{value}'" : "";
            foreach (var (name, attempt) in new[]
            {
                ("SELECT", $"SELECT count(*) FROM {schema}.jobs{notMine}"),
                ("UPDATE", $"UPDATE {schema}.jobs SET title = 'pwned'"),
                ("DELETE", $"DELETE FROM {schema}.jobs"),
                ("INSERT", $"INSERT INTO {schema}.jobs (tenant_id, id, title) VALUES ('{Guid.NewGuid()}', gen_random_uuid(), 'smuggled')"),
            })
            {
                await using var tx = await app.BeginTransactionAsync();
                if (value is not null)
                {
                    await using var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', $1, true)", app, tx) { Parameters = { new() { Value = value } } };
                    await set.ExecuteNonQueryAsync();
                }

                await using var cmd = new NpgsqlCommand(attempt, app, tx);
                try
                {
                    var reached = name == "SELECT" ? (long)(await cmd.ExecuteScalarAsync())! : await cmd.ExecuteNonQueryAsync();
                    if (reached > 0)
                    {
                        into.Add($"{name} ({state})");
                    }
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && name == "INSERT")
                {
                    // WITH CHECK refused the row: closed.
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
                {
                    // The app role holds SELECT, UPDATE and DELETE, so this is WITH CHECK refusing a row that USING let the UPDATE reach.
                    into.Add($"{name} ({state}, stopped by WITH CHECK)");
                }

                await tx.RollbackAsync();
            }
        }

        return (none, other);
    }
}
