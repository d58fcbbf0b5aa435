using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Bypass;

/// <summary>
/// Privilege paths from the application role to something that switches row-level security off: an attribute on the
/// role itself or on a role it reaches through a chain of grants (with or without ADMIN OPTION, INHERIT or NOINHERIT),
/// ownership of a tenant table or of the policy helper, or membership in pg_execute_server_program. The oracle is PostgreSQL: act as the application role, try
/// the escalation, and see whether it reads another tenant's rows. The linter must report exactly the paths that work
/// (as errors with remediation SQL that closes them) and the generated migration must close every one of them.
/// </summary>
public sealed class RoleEscalationTests(RoleEscalationTests.EscalationDatabase fixture) : IClassFixture<RoleEscalationTests.EscalationDatabase>
{
    private static readonly Guid TenantA = Guid.NewGuid();
    private string _lastRefusal = "";
    private static readonly Guid TenantB = Guid.NewGuid();

    private static readonly string[] RoleRules =
    [
        RlsRules.AppRoleSuperuser, RlsRules.AppRoleBypassRls, RlsRules.AppRoleCreateRole, RlsRules.AppRoleReplication,
        RlsRules.AppRoleOwnsTenantTable, RlsRules.AppRoleOwnsPolicyFunction, RlsRules.AppRoleReachesPrivilegedRole,
    ];

    public enum Power
    {
        None,
        Superuser,
        BypassRls,
        CreateRole,
        OwnsTenantTable,
        OwnsPolicyHelper,
        ExecutesServerPrograms,
    }

    /// <summary>A chain app -> r1 -> ... -> rN (N = Links.Length, 0: the power is on the app role itself); the power sits on the last role.</summary>
    public sealed record Link(bool AdminOption, bool NoInherit);

    public sealed record Case(Power Power, Link[] Links, bool FirstLinkReversed, bool AppNoInherit)
    {
        public override string ToString() =>
            $"{Power} via [{string.Join(" -> ", Links.Select(l => (l.AdminOption ? "admin " : "") + (l.NoInherit ? "noinherit" : "inherit")))}]{(FirstLinkReversed ? " (first link reversed)" : "")}{(AppNoInherit ? ", app NOINHERIT" : "")}";
    }

    public static class Cases
    {
        public static Arbitrary<Case> Arbitrary() =>
            (from power in Gen.Elements(Enum.GetValues<Power>())
             from depth in Gen.Choose(0, 3)
             from links in Gen.ArrayOf(Gen.Zip(ArbMap.Default.GeneratorFor<bool>(), ArbMap.Default.GeneratorFor<bool>()).Select(t => new Link(t.Item1, t.Item2)), depth)
             from reversed in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
             from appNoInherit in ArbMap.Default.GeneratorFor<bool>()
             select new Case(power, links, reversed && depth > 0, appNoInherit)).ToArbitrary();
    }

    /// <summary>Migrated after the tables are given to a realistic owner: a plain migration role, not a superuser (CREATEROLE cannot grant superuser roles).</summary>
    public sealed class EscalationDatabase() : MigratedDatabaseFixture("rls_esc", AtsDatabase.UniqueRole("esc_app"), migrate: false)
    {
        public string OwnerRole { get; } = AtsDatabase.UniqueRole("esc_owner");

        protected override async Task SetUpAsync()
        {
            await Server.ExecuteAsync($"""
                CREATE ROLE {OwnerRole} NOLOGIN;
                ALTER TABLE jobs OWNER TO {OwnerRole}; ALTER TABLE applications OWNER TO {OwnerRole}; ALTER TABLE notes OWNER TO {OwnerRole};
                ALTER TABLE events OWNER TO {OwnerRole}; ALTER TABLE events_a OWNER TO {OwnerRole}; ALTER TABLE events_b OWNER TO {OwnerRole};
                ALTER VIEW open_jobs OWNER TO {OwnerRole};
                """, Database);
            await Server.ExecuteAsync(AtsDatabase.Model(Role).GenerateMigration().Up, Database);
            await Server.ExecuteAsync($"INSERT INTO jobs (tenant_id, id, title) VALUES ('{TenantA}', gen_random_uuid(), 'a'), ('{TenantB}', gen_random_uuid(), 'b')", Database);
        }
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void Lint_reports_exactly_the_escalations_that_work_and_the_migration_closes_them(Case c) => RunAsync(c).GetAwaiter().GetResult();

    private async Task RunAsync(Case c)
    {
        var app = fixture.Role;
        var id = Guid.NewGuid().ToString("N")[..10];
        var roles = c.Links.Select((_, i) => $"esc_{id}_{i}").ToArray();
        var target = roles.Length == 0 ? app : roles[^1];

        await using var conn = await MigratedDatabaseFixture.OpenAsync(fixture.OwnerConnectionString);
        await using var tx = await conn.BeginTransactionAsync();
        var setup = new List<string>();
        for (var i = 0; i < roles.Length; i++)
        {
            setup.Add($"CREATE ROLE {roles[i]} NOLOGIN {(c.Links[i].NoInherit ? "NOINHERIT" : "INHERIT")}");
            var member = i == 0 ? app : roles[i - 1];
            setup.Add(i == 0 && c.FirstLinkReversed
                ? $"GRANT {member} TO {roles[i]}"
                : $"GRANT {roles[i]} TO {member}{(c.Links[i].AdminOption ? " WITH ADMIN OPTION" : "")}");
        }

        if (c.AppNoInherit)
        {
            setup.Add($"ALTER ROLE {app} NOINHERIT");
        }

        setup.Add(c.Power switch
        {
            Power.Superuser => $"ALTER ROLE {target} SUPERUSER",

            // A reporting or admin role: BYPASSRLS plus the right to read the table.
            Power.BypassRls => $"ALTER ROLE {target} BYPASSRLS; GRANT SELECT ON jobs TO {target}",
            Power.CreateRole => $"ALTER ROLE {target} CREATEROLE",
            Power.OwnsTenantTable => $"ALTER TABLE jobs OWNER TO {target}",
            Power.OwnsPolicyHelper => $"ALTER FUNCTION public.current_tenant_id() OWNER TO {target}",
            Power.ExecutesServerPrograms => $"GRANT pg_execute_server_program TO {target}",
            _ => "SELECT 1",
        });
        await ExecuteAsync(conn, string.Join(";\n", setup));

        var escalates = await AttackAsync(conn, c, app, target);
        var findings = (await fixture.LintAsync(conn)).Where(f => RoleRules.Contains(f.Rule)).ToList();
        Assert.True(escalates == (findings.Count > 0), $"{c}: the escalation {(escalates ? "works" : $"fails ({_lastRefusal})")} but the linter reported [{string.Join(", ", findings.Select(f => f.Rule))}]");
        Assert.All(findings, f =>
        {
            Assert.Equal(RlsFindingLevel.Error, f.Level);
            Assert.False(string.IsNullOrWhiteSpace(f.Remediation));
        });

        if (escalates)
        {
            // The remediation SQL the linter suggests closes the path.
            await ExecuteAsync(conn, "SAVEPOINT remediation");
            foreach (var f in findings)
            {
                await ExecuteAsync(conn, f.Remediation);
            }

            Assert.False(await AttackAsync(conn, c, app, target), $"{c}: still escalates after the linter's remediation: {string.Join(" ", findings.Select(f => f.Remediation))}");
            await ExecuteAsync(conn, "ROLLBACK TO SAVEPOINT remediation");
        }

        // The generated migration, run again, closes it too (and leaves nothing for the role rules to report).
        await ExecuteAsync(conn, AtsDatabase.Model(app).GenerateMigration().Up);
        Assert.False(await AttackAsync(conn, c, app, target), $"{c}: still escalates after the migration");
        Assert.DoesNotContain(await fixture.LintAsync(conn), f => RoleRules.Contains(f.Rule));
        await tx.RollbackAsync();
    }

    /// <summary>Acts as the application role and tries the escalation; true when it then reads another tenant's rows.</summary>
    private async Task<bool> AttackAsync(NpgsqlConnection conn, Case c, string app, string target)
    {
        var owner = fixture.OwnerRole;
        var statement = "leak_" + Guid.NewGuid().ToString("N");
        var probe = $"SELECT count(*) FROM jobs WHERE tenant_id <> '{TenantA}'";
        var steps = new List<string> { $"SET SESSION AUTHORIZATION {app}" };
        if (target != app)
        {
            steps.Add($"SET ROLE {target}");
        }

        switch (c.Power)
        {
            case Power.CreateRole:
                // PostgreSQL 15: CREATEROLE may grant any non-superuser role, the tables' owner included.
                steps.Add($"GRANT {owner} TO {app}");
                steps.Add($"SET ROLE {owner}");
                steps.Add("ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY");
                break;
            case Power.OwnsTenantTable:
                steps.Add("ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY");
                break;
            case Power.ExecutesServerPrograms:
                // A program run by the server runs as its operating-system user, which the cluster trusts as superuser.
                var psql = ServerBinaries.Postgres("psql");
                steps.Add("SET ROLE pg_execute_server_program");
                steps.Add($"COPY (SELECT 1) TO PROGRAM '{psql} -X -q -h {fixture.Server.Host} -p {fixture.Server.Port} -U postgres -d {fixture.Database} -c \"GRANT {owner} TO {app}\"'");
                steps.Add($"SET ROLE {owner}");
                steps.Add("ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY");
                break;
            case Power.OwnsPolicyHelper:
                // The owner declares the helper IMMUTABLE: PostgreSQL then no longer inlines it but folds its value
                // into a plan, and a cached generic plan keeps the tenant it was planned for (tenant B here) for
                // whoever runs it next on that pooled connection.
                steps.Add("ALTER FUNCTION public.current_tenant_id() IMMUTABLE");
                steps.Add("RESET ROLE");
                steps.Add("SET LOCAL plan_cache_mode = force_generic_plan");
                steps.Add($"SELECT set_config('app.tenant_id', '{TenantB}', true)");
                steps.Add($"PREPARE {statement} AS SELECT count(*) FROM jobs WHERE tenant_id <> '{TenantA}'");
                steps.Add($"EXECUTE {statement}");
                probe = $"EXECUTE {statement}";
                break;
        }

        steps.Add($"SELECT set_config('app.tenant_id', '{TenantA}', true)");
        await ExecuteAsync(conn, "SAVEPOINT attack");
        try
        {
            foreach (var step in steps)
            {
                await ExecuteAsync(conn, step);
            }

            await using var read = new NpgsqlCommand(probe, conn);
            return (long)(await read.ExecuteScalarAsync())! > 0;
        }
        catch (PostgresException e)
        {
            _lastRefusal = e.MessageText;
            return false;
        }
        finally
        {
            await ExecuteAsync(conn, "ROLLBACK TO SAVEPOINT attack; RELEASE SAVEPOINT attack");
            await ExecuteAsync(conn, "DEALLOCATE ALL"); // PREPARE is not transactional
            if (c.Power == Power.ExecutesServerPrograms)
            {
                // The program's GRANT was committed by its own session: take it back from outside this transaction.
                await fixture.Server.ExecuteAsync($"REVOKE {owner} FROM {app}", fixture.Database);
            }

        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
