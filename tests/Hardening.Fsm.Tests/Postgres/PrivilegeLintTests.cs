using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Pipeline;
using Npgsql;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// <see cref="PostgresTableMapping.LintSql"/> reports exactly the dangerous privileges a role holds: any subset of the
/// grants below given to a fresh role (directly or through a group role) is reported, and nothing else. Oracle: the
/// generated grant set itself. The generated script leaves the application role with nothing to report.
/// </summary>
public sealed class PrivilegeLintTests(CandidateDatabase db, HostileGrantsDatabase hostile) : IClassFixture<CandidateDatabase>, IClassFixture<HostileGrantsDatabase>
{
    // The grant, and the words the lint must print for it.
    private static readonly (string Grant, string Reported)[] Dangerous =
    [
        ("INSERT ON public.candidates_audit", "INSERT \"public\".\"candidates_audit\""),
        ("UPDATE ON public.candidates_audit", "UPDATE \"public\".\"candidates_audit\""),
        ("DELETE ON public.candidates_audit", "DELETE \"public\".\"candidates_audit\""),
        ("TRUNCATE ON public.candidates_audit", "TRUNCATE \"public\".\"candidates_audit\""),
        ("TRIGGER ON public.candidates_audit", "TRIGGER \"public\".\"candidates_audit\""),
        ("INSERT ON public.candidates_transitions", "INSERT \"public\".\"candidates_transitions\""),
        ("UPDATE ON public.candidates_transitions", "UPDATE \"public\".\"candidates_transitions\""),
        ("TRUNCATE ON public.candidates_transitions", "TRUNCATE \"public\".\"candidates_transitions\""),
        ("DELETE ON public.candidates", "DELETE \"public\".\"candidates\""),
        ("TRUNCATE ON public.candidates", "TRUNCATE \"public\".\"candidates\""),
        ("TRIGGER ON public.candidates", "TRIGGER \"public\".\"candidates\""),
        ("UPDATE ON SEQUENCE public.candidates_audit_id_seq", "UPDATE sequence public.candidates_audit_id_seq"),
        ("USAGE ON SEQUENCE public.candidates_audit_id_seq", "USAGE sequence public.candidates_audit_id_seq"),
        ("EXECUTE ON FUNCTION public.candidates_fsm_update()", "EXECUTE \"public\".\"candidates_fsm_update\"()"),
        ("EXECUTE ON FUNCTION public.candidates_fsm_insert()", "EXECUTE \"public\".\"candidates_fsm_insert\"()"),
    ];

    private static int _role;

    public sealed record GrantSet(int[] Grants, bool ThroughGroup);

    public static class Sets
    {
        public static Arbitrary<GrantSet> Arb() =>
            (from n in Gen.Choose(0, 5)
             from grants in Gen.ArrayOf(Gen.Choose(0, Dangerous.Length - 1), n)
             from viaGroup in Gen.Elements(false, true)
             select new GrantSet([.. grants.Distinct().Order()], viaGroup)).ToArbitrary();
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Sets)])]
    public void Lint_reports_exactly_the_dangerous_privileges_a_role_holds(GrantSet set)
    {
        using var admin = AttackKit.Open(db.ConnectionString);
        var role = "lint_probe_" + Interlocked.Increment(ref _role).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var holder = set.ThroughGroup ? role + "_group" : role;
        Assert.Null(AttackKit.Try(admin, $"CREATE ROLE {role} LOGIN" + (set.ThroughGroup ? $"; CREATE ROLE {holder} NOLOGIN; GRANT {holder} TO {role}" : "")));
        try
        {
            foreach (var g in set.Grants)
            {
                Assert.Null(AttackKit.Try(admin, $"GRANT {Dangerous[g].Grant} TO {holder}"));
            }

            var problems = Lint(admin).Where(p => p.StartsWith($"role {role} ", StringComparison.Ordinal)).ToList();
            var expected = set.Grants.Select(g => Dangerous[g].Reported).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected.Count, problems.Count);
            foreach (var e in expected)
            {
                Assert.Contains(problems, p => p.Contains("can " + e + ";", StringComparison.Ordinal));
            }
        }
        finally
        {
            AttackKit.Try(admin, $"DROP OWNED BY {role}; DROP ROLE {role}" + (set.ThroughGroup ? $"; DROP OWNED BY {holder}; DROP ROLE {holder}" : ""));
        }
    }

    [Fact]
    public void The_generated_script_leaves_nothing_to_report_and_broad_grants_are_reported()
    {
        using (var admin = AttackKit.Open(db.ConnectionString))
        {
            Assert.DoesNotContain(Lint(admin), p => !p.StartsWith("role lint_probe_", StringComparison.Ordinal));
        }

        using var hostileAdmin = AttackKit.Open(hostile.ConnectionString);
        var reported = Lint(hostileAdmin).Where(p => p.StartsWith($"role {PostgresServer.AppRole} ", StringComparison.Ordinal)).ToList();
        foreach (var (_, words) in Dangerous)
        {
            Assert.Contains(reported, p => p.Contains("can " + words + ";", StringComparison.Ordinal));
        }

        Assert.Null(AttackKit.Try(hostileAdmin, "BEGIN; ALTER TABLE public.candidates DISABLE TRIGGER candidates_fsm_update"));
        Assert.Contains(Lint(hostileAdmin), p => p.Contains("generated trigger candidates_fsm_update on \"public\".\"candidates\" is missing or disabled", StringComparison.Ordinal));
        AttackKit.Try(hostileAdmin, "ROLLBACK");
    }

    private static List<string> Lint(NpgsqlConnection conn)
    {
        using var cmd = new NpgsqlCommand(CandidatePipeline.Table.LintSql, conn);
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
        {
            rows.Add(r.GetString(0));
        }

        return rows;
    }
}
