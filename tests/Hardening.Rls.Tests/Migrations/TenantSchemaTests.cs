
namespace Hardening.Rls.Tests.Migrations;

public sealed class TenantSchemaTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    // Everything the migration controls, as text: RLS flags, policies, constraints, indexes, view options, function config, grants.
    private const string Fingerprint = """
        SELECT string_agg(x, E'\n' ORDER BY x) FROM (
          SELECT format('rel %s rls=%s force=%s acl=%s opts=%s', c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relacl, c.reloptions) AS x
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
          UNION ALL SELECT format('pol %s %s %s %s %s', polrelid::regclass, polname, polroles, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)) FROM pg_policy
          UNION ALL SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
          UNION ALL SELECT format('fn %s %s %s %s', proname, provolatile, proparallel, proconfig) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
          UNION ALL SELECT format('att %s.%s notnull=%s', attrelid::regclass, attname, attnotnull) FROM pg_attribute WHERE attname = 'tenant_id' AND attrelid::regclass::text NOT LIKE 'pg_%'
        ) s
        """;

    [Fact]
    public async Task Up_is_idempotent_down_is_idempotent_and_up_again_lints_clean()
    {
        var role = AtsDatabase.UniqueRole("mig_app");
        var db = await AtsDatabase.CreateAsync(postgres.Server, "rls_mig", appRole: null);
        var migration = AtsDatabase.Model(role).GenerateMigration();
        var before = await postgres.Server.ScalarAsync<string>(Fingerprint, db);

        await postgres.Server.ExecuteAsync(migration.Up, db);
        var once = await postgres.Server.ScalarAsync<string>(Fingerprint, db);
        await postgres.Server.ExecuteAsync(migration.Up, db);
        Assert.Equal(once, await postgres.Server.ScalarAsync<string>(Fingerprint, db));
        Assert.NotEqual(before, once);
        Assert.Empty((await LintAsync(db, role)).Findings);

        await postgres.Server.ExecuteAsync(migration.Down, db);
        var down = await postgres.Server.ScalarAsync<string>(Fingerprint, db);
        await postgres.Server.ExecuteAsync(migration.Down, db);
        Assert.Equal(down, await postgres.Server.ScalarAsync<string>(Fingerprint, db));
        Assert.Contains(RlsRules.RlsDisabled, (await LintAsync(db, role)).Findings.Select(f => f.Rule));

        await postgres.Server.ExecuteAsync(migration.Up, db);
        Assert.Equal(once, await postgres.Server.ScalarAsync<string>(Fingerprint, db));
        Assert.Empty((await LintAsync(db, role)).Findings);
    }

    [Fact]
    public async Task The_role_is_created_not_superuser_not_bypassrls_and_login_as_configured()
    {
        var role = AtsDatabase.UniqueRole("mig_nologin");
        var db = await AtsDatabase.CreateAsync(postgres.Server, "rls_mig2", appRole: null);
        var migration = new TenantSchema(role).Table("jobs").GenerateMigration();
        await postgres.Server.ExecuteAsync(migration.Up, db);
        Assert.Equal("f f f", await postgres.Server.ScalarAsync<string>($"SELECT format('%s %s %s', rolcanlogin, rolsuper, rolbypassrls) FROM pg_roles WHERE rolname = '{role}'"));
        Assert.Equal("f", await postgres.Server.ScalarAsync<string>($"SELECT (relowner = (SELECT oid FROM pg_roles WHERE rolname = '{role}'))::text::char FROM pg_class WHERE relname = 'jobs'", db));
    }

    [Fact]
    public void The_up_script_has_the_pieces_the_issue_asks_for()
    {
        var up = AtsDatabase.Model("ats_app").GenerateMigration().Up;
        Assert.Contains("ALTER TABLE public.jobs FORCE ROW LEVEL SECURITY;", up, StringComparison.Ordinal);
        Assert.Contains("CREATE POLICY tenant_isolation ON public.jobs AS PERMISSIVE FOR ALL TO ats_app", up, StringComparison.Ordinal);
        Assert.Contains("USING (tenant_id = (SELECT public.current_tenant_id()))", up, StringComparison.Ordinal);
        Assert.Contains("WITH CHECK (tenant_id = (SELECT public.current_tenant_id()))", up, StringComparison.Ordinal);
        Assert.Contains("LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER", up, StringComparison.Ordinal);
        Assert.Contains("nullif(pg_catalog.current_setting('app.tenant_id', true), ''::pg_catalog.text)::pg_catalog.uuid", up, StringComparison.Ordinal);
        Assert.Contains("REVOKE TRUNCATE, REFERENCES ON public.jobs FROM PUBLIC, ats_app;", up, StringComparison.Ordinal);
        Assert.Contains("FOREIGN KEY (tenant_id, job_id) REFERENCES public.jobs (tenant_id, id)", up, StringComparison.Ordinal);
        Assert.Contains("UNIQUE (tenant_id, email)", up, StringComparison.Ordinal);
        Assert.Contains("ALTER VIEW public.open_jobs SET (security_invoker = true);", up, StringComparison.Ordinal);
        Assert.Contains("NOLOGIN", new TenantSchema("x_app").Table("t").GenerateMigration().Up, StringComparison.Ordinal);
        Assert.DoesNotContain("SET app.", up, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Jobs")]
    [InlineData("jobs; DROP TABLE x")]
    [InlineData("1jobs")]
    [InlineData("")]
    [InlineData("a_name_that_is_much_too_long_for_postgresql_identifiers_really_yes")]
    public void Bad_names_fail_with_a_message_naming_the_problem(string name)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new TenantSchema("ats_app").Table(name));
        Assert.Contains("table name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_models_fail_before_any_sql_is_produced()
    {
        Assert.Contains("not a tenant table of this model",
            Assert.Throws<ArgumentException>(() => new TenantSchema("ats_app").Table("a", t => t.References("b_id", "b")).GenerateMigration()).Message, StringComparison.Ordinal);
        Assert.Contains("Tenant type", Assert.Throws<ArgumentException>(() => new TenantSchema("ats_app") { TenantType = "json" }.Table("a").GenerateMigration()).Message, StringComparison.Ordinal);
        Assert.Contains("setting", Assert.Throws<ArgumentException>(() => new TenantSchema("ats_app") { TenantSetting = "tenant" }.Table("a").GenerateMigration()).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => new TenantSchema("ats_app").GenerateMigration());
        Assert.Throws<ArgumentException>(() => new TenantSchema("pg_app"));
        Assert.Throws<ArgumentException>(() => new TenantSchema("ats_app").Table("a").Table("a"));
    }

    private async Task<RlsLintReport> LintAsync(string db, string role)
    {
        await using var ds = Npgsql.NpgsqlDataSource.Create(postgres.Server.ForDatabase(db));
        return await new RlsLinter(new RlsLintOptions { AppRole = role }).LintAsync(ds);
    }
}
