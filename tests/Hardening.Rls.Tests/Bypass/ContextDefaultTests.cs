using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Bypass;

/// <summary>
/// Defaults of the context settings (<c>ALTER ROLE app SET app.tenant_id = ...</c>, per database, for every role in
/// the database, or on the database) turn "no context" into "some tenant". The oracle logs in as the application
/// role, sets nothing, and looks at what the session gets: the setting's value and the rows it can read. The linter
/// must report exactly the defaults a fresh session receives, and the generated migration must remove the tenant one.
/// (Defaults for every role in every database are cluster-wide and would reach the other tests running in parallel,
/// so they are not generated; the linter and the migration handle them the same way.)
/// </summary>
public sealed class ContextDefaultTests(ContextDefaultTests.DefaultsDatabase fixture) : IClassFixture<ContextDefaultTests.DefaultsDatabase>
{
    private static readonly Guid TenantB = Guid.NewGuid();
    private static readonly string[] Settings = ["app.tenant_id", "app.user_id", "app.roles", "app.unrelated"];

    public enum Scope
    {
        Role,
        RoleInDatabase,
        AllRolesInDatabase,
        Database,
        OtherRole,
    }

    public sealed record Default(Scope Scope, string Setting);

    public sealed record Case(Default[] Defaults)
    {
        public override string ToString() => string.Join("; ", Defaults.Select(d => $"{d.Scope} {d.Setting}"));
    }

    public static class Cases
    {
        public static Arbitrary<Case> Arbitrary() =>
            (from n in Gen.Choose(0, 3)
             from defaults in Gen.ArrayOf(Gen.Zip(Gen.Elements(Enum.GetValues<Scope>()), Gen.Elements(Settings)).Select(t => new Default(t.Item1, t.Item2)), n)
             select new Case([.. defaults.DistinctBy(d => (d.Scope, d.Setting))])).ToArbitrary();
    }

    public sealed class DefaultsDatabase() : MigratedDatabaseFixture("rls_dflt", AtsDatabase.UniqueRole("dflt_app"))
    {
        public string OtherRole { get; } = AtsDatabase.UniqueRole("dflt_other");

        protected override Task SetUpAsync() =>
            Server.ExecuteAsync($"CREATE ROLE {OtherRole} LOGIN; INSERT INTO jobs (tenant_id, id, title) VALUES ('{TenantB}', gen_random_uuid(), 'b')", Database);
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void Lint_reports_exactly_the_defaults_a_fresh_session_gets_and_the_migration_removes_the_tenant_one(Case c) => RunAsync(c).GetAwaiter().GetResult();

    private async Task RunAsync(Case c)
    {
        var app = fixture.Role;
        var db = fixture.Database;
        string Alter(Default d, string action) => d.Scope switch
        {
            Scope.Role => $"ALTER ROLE {app} {action}",
            Scope.RoleInDatabase => $"ALTER ROLE {app} IN DATABASE \"{db}\" {action}",
            Scope.AllRolesInDatabase => $"ALTER ROLE ALL IN DATABASE \"{db}\" {action}",
            Scope.Database => $"ALTER DATABASE \"{db}\" {action}",
            _ => $"ALTER ROLE {fixture.OtherRole} {action}",
        };
        string Value(string setting) => setting == "app.tenant_id" ? TenantB.ToString() : "someone";

        foreach (var d in c.Defaults)
        {
            await fixture.Server.ExecuteAsync(Alter(d, $"SET {d.Setting} = '{Value(d.Setting)}'"));
        }

        try
        {
            var (seen, rows) = await FreshSessionAsync();
            var linted = (await fixture.LintAsync()).Where(f => f.Rule == RlsRules.ContextSettingDefault).ToList();
            var contextSettings = Settings[..3];
            var reaching = seen.Where(s => contextSettings.Contains(s)).ToList();
            Assert.True(reaching.Count > 0 == linted.Count > 0, $"{c}: a fresh session gets [{string.Join(", ", seen)}]; linted [{string.Join(", ", linted.Select(f => f.Object + ": " + f.Detail))}]");
            Assert.All(reaching, s => Assert.Contains(linted, f => f.Detail.Contains(s + "=", StringComparison.Ordinal)));
            Assert.True(seen.Contains("app.tenant_id") == rows > 0, $"{c}: with no context the session reads {rows} rows");
            Assert.All(linted, f => Assert.Equal(RlsFindingLevel.Error, f.Level));

            await fixture.Server.ExecuteAsync(AtsDatabase.Model(app).GenerateMigration().Up, db);
            var (after, rowsAfter) = await FreshSessionAsync();
            Assert.DoesNotContain("app.tenant_id", after);
            Assert.Equal(0L, rowsAfter);
            Assert.DoesNotContain(await fixture.LintAsync(), f => f.Rule == RlsRules.ContextSettingDefault && f.Detail.Contains("app.tenant_id=", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var d in c.Defaults)
            {
                await fixture.Server.ExecuteAsync(Alter(d, $"RESET {d.Setting}"));
            }
        }
    }

    /// <summary>Logs in as the application role and reports which settings arrive with a value, and how many rows it reads without setting anything.</summary>
    private async Task<(List<string> Seen, long Rows)> FreshSessionAsync()
    {
        await using var conn = await MigratedDatabaseFixture.OpenAsync(fixture.AppConnectionString);
        var seen = new List<string>();
        foreach (var s in Settings)
        {
            await using var cmd = new NpgsqlCommand("SELECT coalesce(current_setting($1, true), '')", conn) { Parameters = { new() { Value = s } } };
            if ((string)(await cmd.ExecuteScalarAsync())! != "")
            {
                seen.Add(s);
            }
        }

        await using var count = new NpgsqlCommand("SELECT count(*) FROM jobs", conn);
        return (seen, (long)(await count.ExecuteScalarAsync())!);
    }
}
