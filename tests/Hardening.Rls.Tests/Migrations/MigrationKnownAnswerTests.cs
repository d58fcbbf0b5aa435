namespace Hardening.Rls.Tests.Migrations;

/// <summary>
/// The whole generated text of <c>up</c> and <c>down</c> for two models that between them use every feature
/// (references, declared unique keys including one a reference also needs, a unique key on the same columns of
/// another table, partitions, views, LOGIN and NOLOGIN, a cast type and <c>text</c>, every name option), against
/// SQL written out by hand and reviewed line by line. The oracle does not call the generator.
/// </summary>
public sealed class MigrationKnownAnswerTests
{
    /// <summary>Defaults everywhere, LOGIN, uuid.</summary>
    public static TenantSchema Full(string role) =>
        new TenantSchema(role) { AppRoleCanLogin = true }
            .Table("jobs", t => t.Unique("id"))
            .Table("applications", t => t.References("job_id", "jobs").Unique("email"))
            .Table("candidates", t => t.Unique("email"))
            .Table("events", t => t.Partitions("events_a", "events_b"))
            .View("open_jobs")
            .View("job_titles");

    /// <summary>Every name option changed, NOLOGIN, text (no cast), a reference to a column other than id.</summary>
    public static TenantSchema Custom(string role) =>
        new TenantSchema(role)
        {
            Schema = "crm",
            TenantColumn = "org_id",
            TenantType = "text",
            TenantSetting = "crm.org",
            HelperFunction = "org_now",
            PolicyName = "org_only",
        }
            .Table("accounts")
            .Table("contacts", t => t.References("account_key", "accounts", "key").References("owner_key", "accounts", "key"));

    private const string RoleHygieneFull = """
        -- Role hygiene: every attribute and membership through which the role could get around the policies goes.
        -- CREATEROLE lets a role grant itself any non-superuser role (the tables' owner, pg_execute_server_program);
        -- REPLICATION streams every tenant's rows; a member of a role that is superuser, BYPASSRLS, CREATEROLE or
        -- REPLICATION, owns a table with row-level security or the helper, or may run programs or touch server files
        -- can SET ROLE to it.
        DO $rls$ DECLARE g record; d record; BEGIN
          IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ats_app') THEN
            -- Roles belong to the cluster: a migration of another database may create it at the same moment.
            BEGIN
              CREATE ROLE ats_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
              NULL;
            END;
          END IF;
          IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ats_app'
                        AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolreplication OR rolcanlogin <> true)) THEN
            ALTER ROLE ats_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOREPLICATION;
          END IF;
          FOR g IN SELECT m.roleid::pg_catalog.regrole::pg_catalog.text AS granted
                   FROM pg_catalog.pg_auth_members m
                   WHERE m.member = 'ats_app'::pg_catalog.regrole
                     AND EXISTS (SELECT FROM pg_catalog.pg_roles x
                                 WHERE pg_catalog.pg_has_role(m.roleid, x.oid, 'MEMBER')
                                   AND (x.rolsuper OR x.rolbypassrls OR x.rolcreaterole OR x.rolreplication
                                        OR x.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')
                                        OR EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relowner = x.oid
                                                     AND (c.relrowsecurity OR c.oid = ANY (ARRAY['public.jobs', 'public.applications', 'public.candidates', 'public.events', 'public.events_a', 'public.events_b']::pg_catalog.regclass[])))
                                        OR EXISTS (SELECT FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                                                   WHERE p.proowner = x.oid AND n.nspname = 'public' AND p.proname = 'current_tenant_id')))
          LOOP
            EXECUTE pg_catalog.format('REVOKE %s FROM %I', g.granted, 'ats_app');
          END LOOP;
          -- A default of the tenant setting turns "no context" (no rows) into "some tenant".
          FOR d IN SELECT s.setrole, s.setdatabase FROM pg_catalog.pg_db_role_setting s
                   WHERE s.setrole IN (0, 'ats_app'::pg_catalog.regrole)
                     AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))
                     AND EXISTS (SELECT FROM pg_catalog.unnest(s.setconfig) c WHERE c LIKE 'app.tenant_id=%')
          LOOP
            EXECUTE CASE WHEN d.setrole = 0 AND d.setdatabase = 0 THEN 'ALTER ROLE ALL'
                         WHEN d.setrole = 0 THEN pg_catalog.format('ALTER DATABASE %I', pg_catalog.current_database())
                         WHEN d.setdatabase = 0 THEN 'ALTER ROLE ats_app'
                         ELSE pg_catalog.format('ALTER ROLE ats_app IN DATABASE %I', pg_catalog.current_database()) END
                    || ' RESET ' || 'app.tenant_id';
          END LOOP;
        END $rls$;
        """;

    private const string HelperFull = """
        GRANT USAGE ON SCHEMA public TO ats_app;
        -- The helper pins no search_path on purpose: a SET clause stops PostgreSQL from inlining it into the
        -- policies, which then call it once per execution (half the throughput of a prepared lookup). Every name in
        -- it is schema-qualified instead, so the caller's search_path cannot redirect it.
        CREATE OR REPLACE FUNCTION public.current_tenant_id() RETURNS pg_catalog.uuid
          LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
          AS $fn$ SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), ''::pg_catalog.text)::pg_catalog.uuid $fn$;
        REVOKE ALL ON FUNCTION public.current_tenant_id() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION public.current_tenant_id() TO ats_app;
        DO $rls$ BEGIN
          IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = 'public.current_tenant_id()'::pg_catalog.regprocedure) = 'ats_app'::pg_catalog.regrole THEN
            ALTER FUNCTION public.current_tenant_id() OWNER TO CURRENT_USER;
          END IF;
        END $rls$;
        """;

    [Fact]
    public void Up_of_the_full_model_is_exactly_the_reviewed_text()
    {
        var expected = Lines(
            "-- Hardening.Rls migration (up). Idempotent: running it again changes nothing. Run as one command (atomic).",
            RoleHygieneFull,
            HelperFull,
            Index("jobs"),
            Index("applications"),
            Index("candidates"),
            Index("events"),
            Unique("jobs", "id", "'tenant_id', 'id'"),
            Unique("applications", "email", "'tenant_id', 'email'"),
            Unique("candidates", "email", "'tenant_id', 'email'"),
            """
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = 'public.applications'::regclass AND conname = 'applications_job_id_rls_fkey') THEN
                ALTER TABLE public.applications ADD CONSTRAINT applications_job_id_rls_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES public.jobs (tenant_id, id);
              END IF;
            END $rls$;
            """,
            Secure("jobs"),
            Secure("applications"),
            Secure("candidates"),
            Secure("events"),
            Secure("events_a"),
            Secure("events_b"),
            """
            ALTER VIEW public.open_jobs SET (security_invoker = true);
            GRANT SELECT ON public.open_jobs TO ats_app;
            ALTER VIEW public.job_titles SET (security_invoker = true);
            GRANT SELECT ON public.job_titles TO ats_app;
            """);
        AssertSameText(expected, Full("ats_app").GenerateMigration().Up);

        static string Index(string table) => $"""
            ALTER TABLE public.{table} ALTER COLUMN tenant_id SET NOT NULL;
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                             WHERE i.indrelid = 'public.{table}'::regclass AND a.attname = 'tenant_id') THEN
                CREATE INDEX {table}_tenant_id_rls_idx ON public.{table} (tenant_id);
              END IF;
            END $rls$;
            """;

        static string Unique(string table, string column, string literals) => $"""
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i
                             WHERE i.indrelid = 'public.{table}'::regclass AND i.indisunique AND i.indpred IS NULL
                               AND ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                                         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[]
                                   = ARRAY[{literals}]::text[]) THEN
                ALTER TABLE public.{table} ADD CONSTRAINT {table}_tenant_id_{column}_rls_key UNIQUE (tenant_id, {column});
              END IF;
            END $rls$;
            """;

        static string Secure(string table) => $"""
            DO $rls$ BEGIN
              IF (SELECT relowner FROM pg_catalog.pg_class WHERE oid = 'public.{table}'::pg_catalog.regclass) = 'ats_app'::pg_catalog.regrole THEN
                ALTER TABLE public.{table} OWNER TO CURRENT_USER;
              END IF;
            END $rls$;
            ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.{table} FORCE ROW LEVEL SECURITY;
            REVOKE TRUNCATE, REFERENCES ON public.{table} FROM PUBLIC, ats_app;
            GRANT SELECT, INSERT, UPDATE, DELETE ON public.{table} TO ats_app;
            DROP POLICY IF EXISTS tenant_isolation ON public.{table};
            CREATE POLICY tenant_isolation ON public.{table} AS PERMISSIVE FOR ALL TO ats_app
              USING (tenant_id = (SELECT public.current_tenant_id()))
              WITH CHECK (tenant_id = (SELECT public.current_tenant_id()));
            """;
    }

    [Fact]
    public void Down_of_the_full_model_is_exactly_the_reviewed_text()
    {
        var expected = Lines(
            "-- Hardening.Rls migration (down). Idempotent. The role is kept; drop it yourself (REASSIGN OWNED / DROP OWNED / DROP ROLE) if nothing else uses it.",
            """
            REVOKE SELECT ON public.open_jobs FROM ats_app;
            ALTER VIEW public.open_jobs RESET (security_invoker);
            REVOKE SELECT ON public.job_titles FROM ats_app;
            ALTER VIEW public.job_titles RESET (security_invoker);
            """,
            Open("jobs"),
            Open("applications"),
            Open("candidates"),
            Open("events"),
            Open("events_a"),
            Open("events_b"),
            """
            ALTER TABLE public.applications DROP CONSTRAINT IF EXISTS applications_job_id_rls_fkey;
            ALTER TABLE public.jobs DROP CONSTRAINT IF EXISTS jobs_tenant_id_id_rls_key;
            ALTER TABLE public.applications DROP CONSTRAINT IF EXISTS applications_tenant_id_email_rls_key;
            ALTER TABLE public.candidates DROP CONSTRAINT IF EXISTS candidates_tenant_id_email_rls_key;
            DROP INDEX IF EXISTS public.jobs_tenant_id_rls_idx;
            DROP INDEX IF EXISTS public.applications_tenant_id_rls_idx;
            DROP INDEX IF EXISTS public.candidates_tenant_id_rls_idx;
            DROP INDEX IF EXISTS public.events_tenant_id_rls_idx;
            DROP FUNCTION IF EXISTS public.current_tenant_id();
            DO $rls$ BEGIN
              IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ats_app') THEN
                REVOKE USAGE ON SCHEMA public FROM ats_app;
              END IF;
            END $rls$;
            """);
        AssertSameText(expected, Full("ats_app").GenerateMigration().Down);

        static string Open(string table) => $"""
            DROP POLICY IF EXISTS tenant_isolation ON public.{table};
            ALTER TABLE public.{table} NO FORCE ROW LEVEL SECURITY;
            ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY;
            REVOKE SELECT, INSERT, UPDATE, DELETE ON public.{table} FROM ats_app;
            """;
    }

    [Fact]
    public void Up_and_down_of_the_custom_model_are_exactly_the_reviewed_text()
    {
        var migration = Custom("crm_app").GenerateMigration();
        var up = migration.Up;

        // The role block differs from the full model's only in names, the NOLOGIN switch and the owned tables.
        var hygiene = RoleHygieneFull
            .Replace("'ats_app'", "'crm_app'", StringComparison.Ordinal)
            .Replace("ROLE ats_app", "ROLE crm_app", StringComparison.Ordinal)
            .Replace(" LOGIN NOSUPERUSER", " NOLOGIN NOSUPERUSER", StringComparison.Ordinal)
            .Replace("rolcanlogin <> true", "rolcanlogin <> false", StringComparison.Ordinal)
            .Replace("'public.jobs', 'public.applications', 'public.candidates', 'public.events', 'public.events_a', 'public.events_b'", "'crm.accounts', 'crm.contacts'", StringComparison.Ordinal)
            .Replace("n.nspname = 'public' AND p.proname = 'current_tenant_id'", "n.nspname = 'crm' AND p.proname = 'org_now'", StringComparison.Ordinal)
            .Replace("'app.tenant_id=%'", "'crm.org=%'", StringComparison.Ordinal)
            .Replace("' RESET ' || 'app.tenant_id'", "' RESET ' || 'crm.org'", StringComparison.Ordinal);
        Assert.Contains("CREATE ROLE crm_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;", hygiene, StringComparison.Ordinal);
        Assert.Contains("ALTER ROLE crm_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOREPLICATION;", hygiene, StringComparison.Ordinal);

        var expectedUp = Lines(
            "-- Hardening.Rls migration (up). Idempotent: running it again changes nothing. Run as one command (atomic).",
            hygiene,
            """
            GRANT USAGE ON SCHEMA crm TO crm_app;
            -- The helper pins no search_path on purpose: a SET clause stops PostgreSQL from inlining it into the
            -- policies, which then call it once per execution (half the throughput of a prepared lookup). Every name in
            -- it is schema-qualified instead, so the caller's search_path cannot redirect it.
            CREATE OR REPLACE FUNCTION crm.org_now() RETURNS pg_catalog.text
              LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
              AS $fn$ SELECT nullif(pg_catalog.current_setting('crm.org', true), ''::pg_catalog.text) $fn$;
            REVOKE ALL ON FUNCTION crm.org_now() FROM PUBLIC;
            GRANT EXECUTE ON FUNCTION crm.org_now() TO crm_app;
            DO $rls$ BEGIN
              IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = 'crm.org_now()'::pg_catalog.regprocedure) = 'crm_app'::pg_catalog.regrole THEN
                ALTER FUNCTION crm.org_now() OWNER TO CURRENT_USER;
              END IF;
            END $rls$;
            ALTER TABLE crm.accounts ALTER COLUMN org_id SET NOT NULL;
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                             WHERE i.indrelid = 'crm.accounts'::regclass AND a.attname = 'org_id') THEN
                CREATE INDEX accounts_org_id_rls_idx ON crm.accounts (org_id);
              END IF;
            END $rls$;
            ALTER TABLE crm.contacts ALTER COLUMN org_id SET NOT NULL;
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                             WHERE i.indrelid = 'crm.contacts'::regclass AND a.attname = 'org_id') THEN
                CREATE INDEX contacts_org_id_rls_idx ON crm.contacts (org_id);
              END IF;
            END $rls$;
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i
                             WHERE i.indrelid = 'crm.accounts'::regclass AND i.indisunique AND i.indpred IS NULL
                               AND ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                                         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[]
                                   = ARRAY['org_id', 'key']::text[]) THEN
                ALTER TABLE crm.accounts ADD CONSTRAINT accounts_org_id_key_rls_key UNIQUE (org_id, key);
              END IF;
            END $rls$;
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = 'crm.contacts'::regclass AND conname = 'contacts_account_key_rls_fkey') THEN
                ALTER TABLE crm.contacts ADD CONSTRAINT contacts_account_key_rls_fkey FOREIGN KEY (org_id, account_key) REFERENCES crm.accounts (org_id, key);
              END IF;
            END $rls$;
            DO $rls$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = 'crm.contacts'::regclass AND conname = 'contacts_owner_key_rls_fkey') THEN
                ALTER TABLE crm.contacts ADD CONSTRAINT contacts_owner_key_rls_fkey FOREIGN KEY (org_id, owner_key) REFERENCES crm.accounts (org_id, key);
              END IF;
            END $rls$;
            DO $rls$ BEGIN
              IF (SELECT relowner FROM pg_catalog.pg_class WHERE oid = 'crm.accounts'::pg_catalog.regclass) = 'crm_app'::pg_catalog.regrole THEN
                ALTER TABLE crm.accounts OWNER TO CURRENT_USER;
              END IF;
            END $rls$;
            ALTER TABLE crm.accounts ENABLE ROW LEVEL SECURITY;
            ALTER TABLE crm.accounts FORCE ROW LEVEL SECURITY;
            REVOKE TRUNCATE, REFERENCES ON crm.accounts FROM PUBLIC, crm_app;
            GRANT SELECT, INSERT, UPDATE, DELETE ON crm.accounts TO crm_app;
            DROP POLICY IF EXISTS org_only ON crm.accounts;
            CREATE POLICY org_only ON crm.accounts AS PERMISSIVE FOR ALL TO crm_app
              USING (org_id = (SELECT crm.org_now()))
              WITH CHECK (org_id = (SELECT crm.org_now()));
            DO $rls$ BEGIN
              IF (SELECT relowner FROM pg_catalog.pg_class WHERE oid = 'crm.contacts'::pg_catalog.regclass) = 'crm_app'::pg_catalog.regrole THEN
                ALTER TABLE crm.contacts OWNER TO CURRENT_USER;
              END IF;
            END $rls$;
            ALTER TABLE crm.contacts ENABLE ROW LEVEL SECURITY;
            ALTER TABLE crm.contacts FORCE ROW LEVEL SECURITY;
            REVOKE TRUNCATE, REFERENCES ON crm.contacts FROM PUBLIC, crm_app;
            GRANT SELECT, INSERT, UPDATE, DELETE ON crm.contacts TO crm_app;
            DROP POLICY IF EXISTS org_only ON crm.contacts;
            CREATE POLICY org_only ON crm.contacts AS PERMISSIVE FOR ALL TO crm_app
              USING (org_id = (SELECT crm.org_now()))
              WITH CHECK (org_id = (SELECT crm.org_now()));
            """);
        AssertSameText(expectedUp, up);

        var expectedDown = """
            -- Hardening.Rls migration (down). Idempotent. The role is kept; drop it yourself (REASSIGN OWNED / DROP OWNED / DROP ROLE) if nothing else uses it.
            DROP POLICY IF EXISTS org_only ON crm.accounts;
            ALTER TABLE crm.accounts NO FORCE ROW LEVEL SECURITY;
            ALTER TABLE crm.accounts DISABLE ROW LEVEL SECURITY;
            REVOKE SELECT, INSERT, UPDATE, DELETE ON crm.accounts FROM crm_app;
            DROP POLICY IF EXISTS org_only ON crm.contacts;
            ALTER TABLE crm.contacts NO FORCE ROW LEVEL SECURITY;
            ALTER TABLE crm.contacts DISABLE ROW LEVEL SECURITY;
            REVOKE SELECT, INSERT, UPDATE, DELETE ON crm.contacts FROM crm_app;
            ALTER TABLE crm.contacts DROP CONSTRAINT IF EXISTS contacts_account_key_rls_fkey;
            ALTER TABLE crm.contacts DROP CONSTRAINT IF EXISTS contacts_owner_key_rls_fkey;
            ALTER TABLE crm.accounts DROP CONSTRAINT IF EXISTS accounts_org_id_key_rls_key;
            DROP INDEX IF EXISTS crm.accounts_org_id_rls_idx;
            DROP INDEX IF EXISTS crm.contacts_org_id_rls_idx;
            DROP FUNCTION IF EXISTS crm.org_now();
            DO $rls$ BEGIN
              IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'crm_app') THEN
                REVOKE USAGE ON SCHEMA crm FROM crm_app;
              END IF;
            END $rls$;
            """;
        AssertSameText(expectedDown + "\n", migration.Down);
    }

    [Theory]
    [InlineData("uuid", "uuid", "::pg_catalog.uuid")]
    [InlineData("bigint", "int8", "::pg_catalog.int8")] // 'bigint' is SQL syntax; the catalog name is int8 (pg_catalog.bigint does not exist)
    [InlineData("integer", "int4", "::pg_catalog.int4")]
    [InlineData("text", "text", "")]
    public void Each_tenant_type_gives_the_helper_its_return_type_and_cast(string type, string catalogName, string cast)
    {
        var up = new TenantSchema("ats_app") { TenantType = type }.Table("jobs").GenerateMigration().Up;
        Assert.Contains($"""
            CREATE OR REPLACE FUNCTION public.current_tenant_id() RETURNS pg_catalog.{catalogName}
              LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
              AS $fn$ SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), ''::pg_catalog.text){cast} $fn$;
            """, up, StringComparison.Ordinal);
    }

    [Fact]
    public void A_unique_key_of_several_columns_lists_them_in_order()
    {
        var migration = new TenantSchema("ats_app").Table("slots", t => t.Unique("day", "room")).GenerateMigration();
        Assert.Contains("""
                                   = ARRAY['tenant_id', 'day', 'room']::text[]) THEN
                ALTER TABLE public.slots ADD CONSTRAINT slots_tenant_id_day_room_rls_key UNIQUE (tenant_id, day, room);
            """, migration.Up, StringComparison.Ordinal);
        Assert.Contains("\nALTER TABLE public.slots DROP CONSTRAINT IF EXISTS slots_tenant_id_day_room_rls_key;\n", migration.Down, StringComparison.Ordinal);
    }

    /// <summary>Joins parts as the generator's AppendLine does: each part followed by a newline.</summary>
    private static string Lines(params string[] parts) => string.Concat(parts.Select(p => p + "\n"));

    /// <summary>Equal text, reported at the first differing line.</summary>
    private static void AssertSameText(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Min(e.Length, a.Length); i++)
        {
            Assert.True(e[i] == a[i], $"line {i + 1} differs:\nexpected: {e[i]}\nactual:   {a[i]}");
        }

        if (e.Length != a.Length)
        {
            Assert.Fail($"expected {e.Length} lines, got {a.Length}; first extra line: {(e.Length > a.Length ? e[a.Length] : a[e.Length])}");
        }

        Assert.Equal(expected, actual);
    }
}
