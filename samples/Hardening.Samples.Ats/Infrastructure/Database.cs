using Hardening.Auth;
using Hardening.Fsm;
using Hardening.Rls;
using Hardening.Samples.Ats.Candidates;
using Npgsql;

namespace Hardening.Samples.Ats.Infrastructure;

/// <summary>
/// The schema: every table is a tenant table (<c>tenant_id uuid</c>, in the primary key, row-level security from
/// Hardening.Rls), the candidate pipeline enforced by the triggers Hardening.Fsm generates, and the demo seed.
/// <c>dotnet Hardening.Samples.Ats.dll migrate</c> applies it as the owner role (<c>ConnectionStrings:Owner</c>);
/// the host itself connects as <see cref="AppRole"/>, which owns nothing and cannot bypass the policies.
/// </summary>
internal static class Database
{
    /// <summary>The plain application role the host logs in as.</summary>
    public const string AppRole = "ats_app";

    /// <summary>The candidate table as Hardening.Fsm maps it.</summary>
    public static readonly PostgresTableMapping Candidates = new("public", "candidates") { ApplicationRole = AppRole };

    /// <summary>The two demo tenants and their recruiters (also printed by <c>./build.sh sample</c>).</summary>
    public static readonly (Guid Tenant, string Name, string Email, string Password, string Display)[] DemoTenants =
    [
        (Guid.Parse("11111111-1111-4111-8111-111111111111"), "Acme Recruiting", "alice@acme.example", "sample-password-acme", "Alice"),
        (Guid.Parse("22222222-2222-4222-8222-222222222222"), "Globex Talent", "bob@globex.example", "sample-password-globex", "Bob"),
    ];

    private const string Tables = """
        DO $$ BEGIN
            -- Roles belong to the cluster: a migration of another database may create it at the same moment.
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ats_app') THEN
                BEGIN CREATE ROLE ats_app LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
            END IF;
        END $$;
        CREATE TABLE IF NOT EXISTS tenants (
            tenant_id uuid NOT NULL PRIMARY KEY,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS accounts (
            tenant_id uuid NOT NULL, id uuid NOT NULL, email text NOT NULL, display_name text NOT NULL,
            password_hash text NOT NULL, previous_hashes text[] NOT NULL DEFAULT '{}', roles text[] NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id));
        CREATE TABLE IF NOT EXISTS token_families (
            tenant_id uuid NOT NULL, id uuid NOT NULL, account_id uuid NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz, revoked_reason text,
            PRIMARY KEY (tenant_id, id));
        CREATE TABLE IF NOT EXISTS candidates (
            tenant_id uuid NOT NULL, id uuid NOT NULL, name text NOT NULL, email text, phone text, notes text,
            expected_salary integer, offer_signed boolean NOT NULL DEFAULT false,
            status text NOT NULL DEFAULT 'APPLIED', is_blacklisted boolean NOT NULL DEFAULT false,
            created_by uuid NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id));
        CREATE TABLE IF NOT EXISTS outbox (
            tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, stream text NOT NULL, event_type text NOT NULL,
            data text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz,
            PRIMARY KEY (tenant_id, id));
        CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (tenant_id, id) WHERE published_at IS NULL;
        CREATE TABLE IF NOT EXISTS idempotency_keys (
            tenant_id uuid NOT NULL, key text NOT NULL, request_hash text NOT NULL, status integer NOT NULL,
            location text, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, key));
        CREATE TABLE IF NOT EXISTS resume_jobs (
            tenant_id uuid NOT NULL, id uuid NOT NULL, candidate_id uuid NOT NULL, file_name text NOT NULL,
            content_type text NOT NULL, size_bytes integer NOT NULL, sha256 text NOT NULL, content bytea NOT NULL,
            state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'dead')), attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(), last_error text, extracted_text text,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id));
        CREATE INDEX IF NOT EXISTS resume_jobs_due ON resume_jobs (next_attempt_at) WHERE state = 'queued';
        """;

    // The Fsm audit table is written by the generated triggers; giving it the tenant column (filled from the
    // transaction's tenant context) and a tenant-scoped key makes it a tenant table like the others.
    private const string AuditTenantColumn = """
        ALTER TABLE candidates_audit ADD COLUMN IF NOT EXISTS tenant_id uuid NOT NULL
            DEFAULT NULLIF(pg_catalog.current_setting('app.tenant_id', true), '')::uuid;
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'candidates_audit_tenant_pkey') THEN
                ALTER TABLE candidates_audit DROP CONSTRAINT IF EXISTS candidates_audit_pkey;
                ALTER TABLE candidates_audit ADD CONSTRAINT candidates_audit_tenant_pkey PRIMARY KEY (tenant_id, id);
            END IF;
        END $$;
        """;

    // Background work (outbox relay, résumé queue) must find which tenants have work before it can open a tenant
    // session; this owner-rights function answers only that (tenant ids), from a schema the RLS lint is told about.
    private const string WorkDirectory = """
        CREATE SCHEMA IF NOT EXISTS ats_work;
        CREATE OR REPLACE FUNCTION ats_work.tenants_with_work() RETURNS SETOF uuid
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
            SELECT tenant_id FROM public.outbox WHERE published_at IS NULL
            UNION SELECT tenant_id FROM public.resume_jobs WHERE state = 'queued' AND next_attempt_at <= now()
            $f$;
        REVOKE ALL ON FUNCTION ats_work.tenants_with_work() FROM PUBLIC;
        GRANT USAGE ON SCHEMA ats_work TO ats_app;
        GRANT EXECUTE ON FUNCTION ats_work.tenants_with_work() TO ats_app;
        """;

    private const string Grants = """
        GRANT SELECT, INSERT, UPDATE ON tenants, accounts, token_families, outbox, idempotency_keys, resume_jobs TO ats_app;
        GRANT DELETE ON idempotency_keys, resume_jobs TO ats_app;
        """;

    /// <summary>The whole migration, as one script.</summary>
    public static string MigrationSql(StateMachine<CandidateEntity> machine)
    {
        var rls = new TenantSchema(AppRole) { AppRoleCanLogin = true }
            .Table("tenants")
            .Table("accounts", t => t.Unique("email"))
            .Table("token_families", t => t.References("account_id", "accounts"))
            .Table("candidates")
            .Table("candidates_audit")
            .Table("outbox")
            .Table("idempotency_keys")
            .Table("resume_jobs", t => t.References("candidate_id", "candidates"))
            .GenerateMigration();
        return Tables + "\n" + machine.ToPostgresSql(Candidates) + "\n" + AuditTenantColumn + "\n" + rls.Up + "\n" + WorkDirectory + "\n" + Grants;
    }

    /// <summary>Applies the migration as the owner and seeds the demo tenants (idempotent).</summary>
    public static async Task MigrateAsync(string ownerConnectionString, StateMachine<CandidateEntity> machine, PasswordHasher hasher, CancellationToken cancellationToken = default)
    {
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_lock(4242018)", conn))
        {
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var migrate = new NpgsqlCommand(MigrationSql(machine), conn))
        {
            await migrate.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var (tenant, name, email, password, display) in DemoTenants)
        {
            await using var seed = new NpgsqlCommand("""
                INSERT INTO tenants (tenant_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING;
                """, conn);
            seed.Parameters.Add(new NpgsqlParameter { Value = tenant });
            seed.Parameters.Add(new NpgsqlParameter { Value = name });
            await seed.ExecuteNonQueryAsync(cancellationToken);
            await using var account = new NpgsqlCommand("""
                INSERT INTO accounts (tenant_id, id, email, display_name, password_hash, roles)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
                """, conn);
            account.Parameters.Add(new NpgsqlParameter { Value = tenant });
            account.Parameters.Add(new NpgsqlParameter { Value = Guid.CreateVersion7() });
            account.Parameters.Add(new NpgsqlParameter { Value = email });
            account.Parameters.Add(new NpgsqlParameter { Value = display });
            account.Parameters.Add(new NpgsqlParameter { Value = hasher.Hash(password) });
            account.Parameters.Add(new NpgsqlParameter { Value = new[] { "recruiter", "operator" } });
            await account.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
