namespace Hardening.Rls.Tests.Migrations;

/// <summary>
/// PostgreSQL is the oracle: <c>down</c> after <c>up</c> must leave the catalog (relations and their RLS flags, ACLs
/// and options, policies, constraints, indexes, triggers, functions, schema ACLs, roles, memberships and role
/// settings) as it was before <c>up</c>, except for what the migration documents it keeps: the role, and NOT NULL on
/// a tenant column that allowed NULL.
/// </summary>
public sealed class MigrationCatalogTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string FullTables = """
        CREATE TABLE jobs (tenant_id uuid NOT NULL, id uuid NOT NULL, title text NOT NULL, open boolean NOT NULL DEFAULT true,
                           PRIMARY KEY (tenant_id, id));
        CREATE TABLE applications (tenant_id uuid NOT NULL, id uuid NOT NULL, job_id uuid NOT NULL, email text NOT NULL);
        CREATE TABLE candidates (tenant_id uuid, email text NOT NULL);
        CREATE TABLE events (tenant_id uuid NOT NULL, id uuid NOT NULL, kind text NOT NULL, PRIMARY KEY (tenant_id, id, kind))
          PARTITION BY LIST (kind);
        CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
        CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');
        CREATE VIEW open_jobs AS SELECT tenant_id, id, title FROM jobs WHERE open;
        CREATE VIEW job_titles AS SELECT tenant_id, title FROM jobs;
        """;

    private const string CustomTables = """
        CREATE SCHEMA crm;
        CREATE TABLE crm.accounts (org_id text NOT NULL, key text NOT NULL);
        CREATE TABLE crm.contacts (org_id text NOT NULL, account_key text NOT NULL, owner_key text NOT NULL);
        """;

    /// <summary>Everything the migration can touch, one line per fact, ACLs with PostgreSQL's own defaults filled in.</summary>
    internal static string Catalog(string role, string schema = "crm") => $"""
        WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('public', '{schema}'))
        SELECT string_agg(x, E'\n' ORDER BY x) FROM (
          SELECT format('rel %s.%s kind=%s rls=%s force=%s owner=%s acl=%s opts=%s', ns.nspname, c.relname, c.relkind, c.relrowsecurity,
                        c.relforcerowsecurity, c.relowner::regrole, coalesce(c.relacl, acldefault('r', c.relowner)), c.reloptions) AS x
            FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
          UNION ALL SELECT format('att %s.%s type=%s notnull=%s', a.attrelid::regclass, a.attname, a.atttypid::regtype, a.attnotnull)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace WHERE a.attnum > 0 AND NOT a.attisdropped
          UNION ALL SELECT format('pol %s %s %s %s %s', polrelid::regclass, polname, polcmd, polroles::regrole[], pg_get_expr(polqual, polrelid)) FROM pg_policy
          UNION ALL SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(c.oid)) FROM pg_constraint c JOIN ns ON ns.oid = c.connamespace
          UNION ALL SELECT format('idx %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN ns ON ns.oid = c.relnamespace
          UNION ALL SELECT format('trg %s %s', t.tgrelid::regclass, t.tgfoid::regproc) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
          UNION ALL SELECT format('fn %s.%s owner=%s acl=%s', ns.nspname, p.proname, p.proowner::regrole, coalesce(p.proacl, acldefault('f', p.proowner))) FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
          UNION ALL SELECT format('nsp %s acl=%s', n.nspname, coalesce(n.nspacl, acldefault('n', n.nspowner))) FROM pg_namespace n JOIN ns ON ns.oid = n.oid
          UNION ALL SELECT format('role %s login=%s super=%s bypass=%s createrole=%s createdb=%s repl=%s', rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication)
            FROM pg_roles WHERE rolname = '{role}'
          UNION ALL SELECT format('member %s of %s', member::regrole, roleid::regrole) FROM pg_auth_members WHERE member::regrole::text = '{role}' OR roleid::regrole::text = '{role}'
          UNION ALL SELECT format('setting %s %s', setrole, setconfig) FROM pg_db_role_setting
            WHERE setrole IN (SELECT oid FROM pg_roles WHERE rolname = '{role}') OR (setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
        ) s
        """;

    [Fact]
    public async Task Down_after_up_of_the_full_model_restores_the_catalog_but_the_role_and_not_null()
    {
        var role = AtsDatabase.UniqueRole("cat_full");
        var (before, up, after) = await RoundTripAsync(FullTables, MigrationKnownAnswerTests.Full(role), role);

        Assert.Equal(
            ["att candidates.tenant_id type=uuid notnull=t", $"role {role} login=t super=f bypass=f createrole=f createdb=f repl=f"],
            Except(after, before));
        Assert.Equal(["att candidates.tenant_id type=uuid notnull=f"], Except(before, after));

        // What up added, as PostgreSQL describes it (a spot check of each kind of object).
        Assert.Contains($"pol applications tenant_isolation * {{{role}}} (tenant_id = ( SELECT current_tenant_id() AS current_tenant_id))", up);
        Assert.Contains("pol events_b tenant_isolation * {" + role + "} (tenant_id = ( SELECT current_tenant_id() AS current_tenant_id))", up);
        Assert.Contains("con applications applications_job_id_rls_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id)", up);
        Assert.Contains("con candidates candidates_tenant_id_email_rls_key UNIQUE (tenant_id, email)", up);
        Assert.Contains("con applications applications_tenant_id_email_rls_key UNIQUE (tenant_id, email)", up);
        Assert.DoesNotContain(up, l => l.Contains("jobs_tenant_id_id_rls_key", StringComparison.Ordinal)); // the primary key already is one
        Assert.Contains("idx CREATE INDEX candidates_tenant_id_rls_idx ON public.candidates USING btree (tenant_id)", up);
        Assert.DoesNotContain(up, l => l.Contains("jobs_tenant_id_rls_idx", StringComparison.Ordinal)); // the primary key leads with the tenant
        Assert.Contains(up, l => l.StartsWith("rel public.open_jobs kind=v rls=f", StringComparison.Ordinal) && l.EndsWith("opts={security_invoker=true}", StringComparison.Ordinal));
        Assert.Contains(up, l => l.StartsWith("rel public.events_a kind=r rls=t force=t", StringComparison.Ordinal) && l.Contains($"{role}=arwd/", StringComparison.Ordinal));
        Assert.Contains(up, l => l.StartsWith("fn public.current_tenant_id owner=postgres", StringComparison.Ordinal) && l.Contains($"{role}=X/postgres", StringComparison.Ordinal) && !l.Contains("{=X/", StringComparison.Ordinal) && !l.Contains(",=X/", StringComparison.Ordinal)); // no EXECUTE for PUBLIC
        Assert.Contains(up, l => l.StartsWith("nsp public ", StringComparison.Ordinal) && l.Contains($"{role}=U/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Down_after_up_of_the_custom_model_restores_the_catalog_but_the_role()
    {
        var role = AtsDatabase.UniqueRole("cat_crm");
        var (before, up, after) = await RoundTripAsync(CustomTables, MigrationKnownAnswerTests.Custom(role), role);
        Assert.Equal([$"role {role} login=f super=f bypass=f createrole=f createdb=f repl=f"], Except(after, before));
        Assert.Empty(Except(before, after));
        Assert.Contains($"pol crm.contacts org_only * {{{role}}} (org_id = ( SELECT crm.org_now() AS org_now))", up);
        Assert.Contains("con crm.contacts contacts_owner_key_rls_fkey FOREIGN KEY (org_id, owner_key) REFERENCES crm.accounts(org_id, key)", up);
        Assert.Contains("con crm.accounts accounts_org_id_key_rls_key UNIQUE (org_id, key)", up);
        Assert.Contains(up, l => l.StartsWith("fn crm.org_now ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("uuid", "'6d1f3c8e-0000-4000-8000-000000000001'")]
    [InlineData("bigint", "'9007199254740993'")]
    [InlineData("integer", "'-42'")]
    [InlineData("text", "' padded '")]
    public async Task The_helper_returns_the_setting_as_the_tenant_type(string type, string literal)
    {
        var role = AtsDatabase.UniqueRole("cat_type");
        var db = await postgres.Server.CreateDatabaseAsync("rls_type");
        await postgres.Server.ExecuteAsync($"CREATE TABLE t (tenant_id {type} NOT NULL);", db);
        await postgres.Server.ExecuteAsync(new TenantSchema(role) { TenantType = type }.Table("t").GenerateMigration().Up, db);
        Assert.Equal(type, await postgres.Server.ScalarAsync<string>("SELECT pg_get_function_result('public.current_tenant_id()'::regprocedure)", db));
        // The helper's value equals the literal cast by PostgreSQL itself, and is NULL without the setting.
        await using var conn = new NpgsqlConnection(postgres.Server.ForDatabase(db) + ";Pooling=false");
        await conn.OpenAsync();
        await using (var unset = new NpgsqlCommand("SELECT current_tenant_id() IS NULL", conn))
        {
            Assert.Equal(true, await unset.ExecuteScalarAsync());
        }

        await using (var set = new NpgsqlCommand($"SELECT set_config('app.tenant_id', {literal}, false)", conn))
        {
            await set.ExecuteNonQueryAsync();
        }

        await using var read = new NpgsqlCommand($"SELECT current_tenant_id() = {literal}::{type}", conn);
        Assert.Equal(true, await read.ExecuteScalarAsync());
    }

    private async Task<(string[] Before, string[] Up, string[] After)> RoundTripAsync(string tables, TenantSchema model, string role)
    {
        var db = await postgres.Server.CreateDatabaseAsync("rls_cat");
        await postgres.Server.ExecuteAsync(tables, db);
        var migration = model.GenerateMigration();
        var before = await SnapshotAsync(db, role);
        await postgres.Server.ExecuteAsync(migration.Up, db);
        var up = await SnapshotAsync(db, role);
        await postgres.Server.ExecuteAsync(migration.Down, db);
        var after = await SnapshotAsync(db, role);
        return (before, up, after);
    }

    private async Task<string[]> SnapshotAsync(string db, string role) =>
        (await postgres.Server.ScalarAsync<string>(Catalog(role), db))!.Split('\n');

    private static string[] Except(string[] a, string[] b) => [.. a.Except(b, StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Roles belong to the cluster, databases do not: migrations of several databases of one cluster run at the same
    /// moment (several services, or test hosts in parallel) all create the same role. Each round starts them together
    /// on a new role; every one must succeed (before: "duplicate key value violates unique constraint
    /// pg_authid_rolname_index" for all but one, seen in a CI run of the sample's tests).
    /// </summary>
    [Fact]
    public async Task Migrations_of_several_databases_creating_one_role_at_once_all_succeed()
    {
        var dbs = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var db = await postgres.Server.CreateDatabaseAsync("rls_race");
            await postgres.Server.ExecuteAsync("CREATE TABLE t (tenant_id uuid NOT NULL);", db);
            dbs.Add(db);
        }

        for (var round = 0; round < 8; round++)
        {
            var role = $"race_{Guid.NewGuid():N}"[..30];
            var up = new TenantSchema(role).Table("t").GenerateMigration().Up;
            using var start = new SemaphoreSlim(0);
            var runs = dbs.Select(db => Task.Run(async () => { await start.WaitAsync(); await postgres.Server.ExecuteAsync(up, db); })).ToList();
            start.Release(dbs.Count);
            await Task.WhenAll(runs); // throws the first failure
            Assert.Equal(1L, await postgres.Server.ScalarAsync<long>($"SELECT count(*) FROM pg_roles WHERE rolname = '{role}' AND NOT rolcanlogin AND NOT rolsuper AND NOT rolbypassrls"));
        }
    }
}
