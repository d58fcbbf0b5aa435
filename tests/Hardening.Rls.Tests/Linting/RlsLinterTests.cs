using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Rls.Tests.Linting;

public sealed class RlsLinterTests(LintDatabaseFixture fixture) : IClassFixture<LintDatabaseFixture>
{
    private readonly string _role = fixture.Role;
    private readonly string _db = fixture.Database;
    private readonly PostgresServer _server = fixture.Server;

    // Each fixture breaks exactly one rule of a clean, generated schema; {app} is the application role.
    public static TheoryData<string, string> Fixtures => new()
    {
        { RlsRules.RlsDisabled, "ALTER TABLE jobs DISABLE ROW LEVEL SECURITY" },
        { RlsRules.RlsNotForced, "ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY" },
        { RlsRules.RlsWithoutPolicy, "DROP POLICY tenant_isolation ON notes" },
        { RlsRules.PolicyAlwaysTrue, "CREATE POLICY peek ON jobs FOR SELECT TO {app} USING (true)" },
        { RlsRules.PolicyMissingWithCheck, "CREATE POLICY edit ON jobs FOR UPDATE TO {app} USING (tenant_id = (SELECT current_tenant_id()))" },
        { RlsRules.PolicyPerRowEvaluation, "CREATE POLICY slow ON jobs FOR SELECT TO {app} USING (tenant_id = current_tenant_id())" },
        { RlsRules.PolicyHelperNotInlinable, "ALTER FUNCTION current_tenant_id() SET search_path = pg_catalog, pg_temp" },
        { RlsRules.AppRoleSuperuser, "ALTER ROLE {app} SUPERUSER" },
        { RlsRules.AppRoleBypassRls, "ALTER ROLE {app} BYPASSRLS" },
        { RlsRules.AppRoleOwnsTenantTable, "ALTER TABLE notes OWNER TO {app}" },
        { RlsRules.AppRoleReachesPrivilegedRole, "CREATE ROLE {app}_admin NOLOGIN BYPASSRLS; GRANT {app}_admin TO {app}" },
        { RlsRules.AppRoleCreateRole, "ALTER ROLE {app} CREATEROLE" },
        { RlsRules.AppRoleReplication, "ALTER ROLE {app} REPLICATION" },
        { RlsRules.AppRoleOwnsPolicyFunction, "ALTER FUNCTION current_tenant_id() OWNER TO {app}" },
        { RlsRules.ContextSettingDefault, "ALTER ROLE {app} SET app.tenant_id = '00000000-0000-0000-0000-000000000001'" },
        { RlsRules.PolicyAdmitsWithoutContext, "INSERT INTO jobs (tenant_id, id, title) VALUES (gen_random_uuid(), gen_random_uuid(), 'x'); CREATE POLICY missing_is_all ON jobs FOR SELECT TO {app} USING (tenant_id = (SELECT current_tenant_id()) OR (SELECT current_tenant_id()) IS NULL)" },
        { RlsRules.PolicyAdmitsOtherTenant, "INSERT INTO jobs (tenant_id, id, title) VALUES (gen_random_uuid(), gen_random_uuid(), 'x'); CREATE POLICY any_tenant ON jobs FOR SELECT TO {app} USING (tenant_id IS NOT NULL AND (SELECT current_tenant_id()) IS NOT NULL)" },
        { RlsRules.PolicyProbeSkipped, "CREATE ROLE {app}_outsider NOLOGIN; SET LOCAL ROLE {app}_outsider" },
        { RlsRules.TruncateGranted, "GRANT TRUNCATE ON jobs TO {app}" },
        { RlsRules.ReferencesGranted, "GRANT REFERENCES ON jobs TO PUBLIC" },
        { RlsRules.ViewWithoutSecurityInvoker, "ALTER VIEW open_jobs RESET (security_invoker)" },
        { RlsRules.MaterializedViewOverTenantTable, "CREATE MATERIALIZED VIEW job_titles AS SELECT tenant_id, title FROM jobs" },
        { RlsRules.SecurityDefinerMutableSearchPath, "CREATE FUNCTION job_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM public.jobs'; REVOKE EXECUTE ON FUNCTION job_count() FROM PUBLIC" },
        { RlsRules.SecurityDefinerExecutableByApp, "CREATE FUNCTION job_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT count(*) FROM public.jobs'" },
        { RlsRules.UniqueWithoutTenantColumn, "ALTER TABLE jobs ADD CONSTRAINT jobs_title_key UNIQUE (title)" },
        { RlsRules.ForeignKeyWithoutTenantColumn, "ALTER TABLE applications ADD COLUMN job_tenant uuid; ALTER TABLE applications ADD CONSTRAINT applications_cross_fkey FOREIGN KEY (job_tenant, job_id) REFERENCES jobs (tenant_id, id)" },
        { RlsRules.PartitionWithoutPolicy, "CREATE TABLE events_c PARTITION OF events FOR VALUES IN ('c')" },
        { RlsRules.TenantColumnNullable, "ALTER TABLE notes ALTER COLUMN tenant_id DROP NOT NULL" },
        { RlsRules.TenantColumnUnindexed, "DROP INDEX notes_tenant_id_rls_idx" },
    };

    [Fact]
    public async Task The_generated_migration_lints_clean()
    {
        var report = await LintAsync();
        Assert.Empty(report.Findings);
        Assert.True(report.Passed);
    }

    [Fact]
    public void Every_rule_has_a_fixture()
    {
        var rules = typeof(RlsRules).GetFields().Select(f => (string)f.GetValue(null)!).Where(r => r != RlsRules.AppRoleMissing).Order();
        Assert.Equal(rules, Fixtures.Select(f => (string)f[0]).Order());
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Each_broken_rule_is_reported_and_only_that_one(string rule, string sql)
    {
        await using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db));
        await using var conn = await ds.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand(sql.Replace("{app}", _role, StringComparison.Ordinal), conn, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        var report = await new RlsLinter(new RlsLintOptions { AppRole = _role }).LintAsync(conn);
        await tx.RollbackAsync();
        var finding = Assert.Single(report.Findings);
        Assert.Equal(rule, finding.Rule);
        Assert.False(string.IsNullOrWhiteSpace(finding.Detail));
        Assert.False(string.IsNullOrWhiteSpace(finding.Remediation));
        Assert.False(string.IsNullOrWhiteSpace(finding.Object));
    }

    [Fact]
    public async Task Security_definer_trigger_functions_are_not_reported_as_executable()
    {
        // A trigger function cannot be called directly (PostgreSQL refuses), so EXECUTE on it is not a bypass;
        // the Fsm package's generated triggers are SECURITY DEFINER with a pinned search_path and must lint clean.
        await using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db));
        await using var conn = await ds.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand(
            "CREATE FUNCTION jobs_touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS 'BEGIN RETURN NEW; END';" +
            "CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_touch()", conn, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        var report = await new RlsLinter(new RlsLintOptions { AppRole = _role }).LintAsync(conn);
        await tx.RollbackAsync();
        Assert.Empty(report.Findings);
    }

    [Fact]
    public async Task Remediation_sql_fixes_what_it_reports()
    {
        // Break three rules, run the remediation the linter suggests, and lint clean again (all inside a rolled-back transaction).
        await using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db));
        await using var conn = await ds.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand($"ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY; GRANT TRUNCATE ON jobs TO {_role}; ALTER VIEW open_jobs RESET (security_invoker)", conn, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        var linter = new RlsLinter(new RlsLintOptions { AppRole = _role });
        var report = await linter.LintAsync(conn);
        Assert.Equal(3, report.Errors);
        foreach (var f in report.Findings)
        {
            await using var fix = new NpgsqlCommand(f.Remediation, conn, tx);
            await fix.ExecuteNonQueryAsync();
        }

        Assert.Empty((await linter.LintAsync(conn)).Findings);
        await tx.RollbackAsync();
    }

    [Fact]
    public async Task A_missing_app_role_is_an_error()
    {
        await using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db));
        var report = await new RlsLinter(new RlsLintOptions { AppRole = "no_such_role_here" }).LintAsync(ds);
        Assert.Equal(RlsRules.AppRoleMissing, Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void Bad_options_fail_with_a_message_naming_the_problem()
    {
        Assert.Contains("tenant column", Assert.Throws<ArgumentException>(() => new RlsLinter(new RlsLintOptions { TenantColumn = "tenant id" })).Message, StringComparison.Ordinal);
        Assert.Contains("application role", Assert.Throws<ArgumentException>(() => new RlsLinter(new RlsLintOptions { AppRole = "x'; --" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_lint_run_updates_the_findings_gauge_by_level()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var linter = new RlsLinter(new RlsLintOptions { AppRole = _role }, meterFactory);
        using var recorder = new MetricCollector<long>(meterFactory, RlsMeters.MeterName, RlsMeters.LintFindings);
        await using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db));
        await using var conn = await ds.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand("ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY; DROP INDEX notes_tenant_id_rls_idx; DROP POLICY tenant_isolation ON notes", conn, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        await linter.LintAsync(conn);
        await tx.RollbackAsync();
        recorder.RecordObservableInstruments();
        var findings = recorder.GetMeasurementSnapshot();
        Assert.Equal(1, findings.Last(m => Equals(m.Tags["level"], "error")).Value);
        Assert.Equal(2, findings.Last(m => Equals(m.Tags["level"], "warning")).Value);

        await linter.LintAsync(conn);
        recorder.RecordObservableInstruments();
        findings = recorder.GetMeasurementSnapshot();
        Assert.Equal(0, findings.Last(m => Equals(m.Tags["level"], "error")).Value);
        Assert.Equal(0, findings.Last(m => Equals(m.Tags["level"], "warning")).Value);
        Assert.Equal(RlsMeters.MeterName, recorder.Instrument?.Meter.Name);
    }

    [Fact]
    public async Task The_readiness_health_check_fails_closed_on_errors_and_passes_when_clean()
    {
        await using var sp = BuildServices(_server.ForDatabase(_db));
        var health = sp.GetRequiredService<HealthCheckService>();
        var clean = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
        Assert.Equal(HealthStatus.Healthy, clean.Status);

        await _server.ExecuteAsync($"GRANT TRUNCATE ON applications TO {_role}", _db);
        try
        {
            var broken = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
            Assert.Equal(HealthStatus.Unhealthy, broken.Status);
            Assert.Contains(RlsRules.TruncateGranted, broken.Entries["hardening-rls"].Data.Keys);
        }
        finally
        {
            await _server.ExecuteAsync($"REVOKE TRUNCATE ON applications FROM {_role}", _db);
        }

        await using var unreachable = BuildServices("Host=127.0.0.1;Port=1;Username=x;Timeout=2");
        var down = await unreachable.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
    }

    [Fact]
    public async Task The_health_check_looks_for_defaults_of_the_settings_the_data_source_uses()
    {
        // A default of the app's own tenant setting gives every session of the role a tenant.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(NpgsqlDataSource.Create(_server.ForDatabase(_db)));
        services.AddHardeningRls(o =>
        {
            o.Lint.AppRole = _role;
            o.DataSource.TenantSetting = "app.tenant";
        });
        services.AddHealthChecks().AddHardeningRlsLintCheck();
        await using var sp = services.BuildServiceProvider();
        var health = sp.GetRequiredService<HealthCheckService>();
        await _server.ExecuteAsync($"ALTER ROLE {_role} SET app.tenant = '00000000-0000-0000-0000-000000000001'");
        try
        {
            var report = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
            Assert.Equal(HealthStatus.Unhealthy, report.Status);
            Assert.Contains(RlsRules.ContextSettingDefault, report.Entries["hardening-rls"].Data.Keys);
        }
        finally
        {
            await _server.ExecuteAsync($"ALTER ROLE {_role} RESET app.tenant");
        }
    }

    [Fact]
    public async Task The_command_line_exits_zero_when_clean_one_on_errors_two_on_bad_input()
    {
        var cs = _server.ForDatabase(_db);
        var (code, output, _) = await RunCliAsync("--connection", cs, "--app-role", _role);
        Assert.Equal(0, code);
        Assert.Contains("0 error(s), 0 warning(s).", output, StringComparison.Ordinal);

        await _server.ExecuteAsync("ALTER TABLE events_b NO FORCE ROW LEVEL SECURITY", _db);
        try
        {
            (code, output, _) = await RunCliAsync("--connection", cs, "--app-role", _role);
            Assert.Equal(1, code);
            Assert.Contains("error: partition_without_policy: public.events_b", output, StringComparison.Ordinal);
            (code, output, _) = await RunCliAsync("--connection", cs, "--app-role", _role, "--format", "json");
            Assert.Equal(1, code);
            Assert.Contains("\"rule\": \"partition_without_policy\"", output, StringComparison.Ordinal);
            Assert.Contains("\"level\": \"error\"", output, StringComparison.Ordinal);
        }
        finally
        {
            await _server.ExecuteAsync("ALTER TABLE events_b FORCE ROW LEVEL SECURITY", _db);
        }

        string err;
        (code, _, err) = await RunCliAsync("--connection", cs, "--bogus");
        Assert.Equal(2, code);
        Assert.Contains("unknown argument '--bogus'", err, StringComparison.Ordinal);
        (code, _, err) = await RunCliAsync("--connection", "Host=127.0.0.1;Port=1;Username=x;Timeout=2");
        Assert.Equal(2, code);
        Assert.Contains("could not lint", err, StringComparison.Ordinal);
        (code, _, err) = await RunCliAsync("--connection", cs, "--format", "xml");
        Assert.Equal(2, code);
        Assert.Contains("--format", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_built_tool_gates_ci_through_its_exit_code()
    {
        var dll = Path.Combine(RepoPaths.Root, "tools", "Hardening.Rls.Lint", "bin", RepoPaths.Configuration, "net10.0", "hardening-rls-lint.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing; build tools/Hardening.Rls.Lint.");
        var cs = _server.ForDatabase(_db);
        var clean = await ProcessRunner.RunAsync("dotnet", [dll, "--connection", cs, "--app-role", _role]);
        Assert.Equal(0, clean.ExitCode);
        Assert.Contains("0 error(s)", clean.StdOut, StringComparison.Ordinal);
        var env = new Dictionary<string, string?> { ["HARDENING_RLS_CONNECTION"] = cs };
        var missingRole = await ProcessRunner.RunAsync("dotnet", [dll, "--app-role", "no_such_role_here"], environment: env);
        Assert.Equal(1, missingRole.ExitCode);
        Assert.Contains("app_role_missing", missingRole.StdOut, StringComparison.Ordinal);
        var bad = await ProcessRunner.RunAsync("dotnet", [dll, "--schema"], environment: env);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--schema needs a value", bad.StdErr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Out, string Err)> RunCliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Hardening.Rls.Lint.LintCommand.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private ServiceProvider BuildServices(string connectionString)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(NpgsqlDataSource.Create(connectionString));
        services.AddHardeningRls(o => o.Lint.AppRole = _role);
        services.AddHealthChecks().AddHardeningRlsLintCheck();
        return services.BuildServiceProvider();
    }

    private async Task<RlsLintReport> LintAsync()
    {
        await using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db));
        return await new RlsLinter(new RlsLintOptions { AppRole = _role }).LintAsync(ds);
    }
}
