using Hardening.Shared;
using System.Text;

namespace Hardening.Rls;

/// <summary>
/// A declarative model of the tenant tables of one schema, from which <see cref="GenerateMigration"/> produces
/// idempotent up and down SQL: the application role (not owner, not superuser, NOBYPASSRLS), a
/// <c>STABLE PARALLEL SAFE</c> helper over <c>nullif(current_setting('app.tenant_id', true), '')</c> that PostgreSQL
/// inlines into the policies (schema-qualified names instead of a pinned <c>search_path</c>), <c>ENABLE</c> + <c>FORCE ROW LEVEL SECURITY</c>, a policy <c>TO</c> the role with
/// <c>USING</c> and <c>WITH CHECK</c> on <c>tenant_id = (SELECT helper())</c>, <c>REVOKE TRUNCATE, REFERENCES</c>,
/// tenant-scoped unique keys and composite foreign keys, an index on the tenant column and
/// <c>security_invoker</c> views. The tables themselves must already exist (your schema migrations create them).
/// </summary>
/// <example>
/// <code>
/// var migration = new TenantSchema("ats_app") { AppRoleCanLogin = true }
///     .Table("jobs")
///     .Table("applications", t => t.References("job_id", "jobs").Unique("candidate_email"))
///     .View("open_jobs")
///     .GenerateMigration();
/// File.WriteAllText("0042_rls.up.sql", migration.Up);
/// </code>
/// </example>
public sealed class TenantSchema
{
    private static readonly string[] TenantTypes = ["uuid", "text", "bigint", "integer"];
    private readonly List<TenantTable> _tables = [];
    private readonly List<string> _views = [];

    /// <summary>Creates a model whose policies apply to <paramref name="appRole"/>.</summary>
    /// <param name="appRole">The role the application connects as (created NOLOGIN unless <see cref="AppRoleCanLogin"/>).</param>
    /// <exception cref="ArgumentException"><paramref name="appRole"/> is not a plain identifier, is a PostgreSQL key word other than an unreserved one, or starts with <c>pg_</c>.</exception>
    public TenantSchema(string appRole)
    {
        AppRole = PostgresNames.UnquotedIdentifier(appRole, "application role", nameof(appRole));
        if (AppRole.StartsWith("pg_", StringComparison.Ordinal))
        {
            throw new ArgumentException("Role names starting with 'pg_' are reserved by PostgreSQL.", nameof(appRole));
        }
    }

    /// <summary>The application role.</summary>
    public string AppRole { get; }

    /// <summary>Whether the role may log in (true) or is NOLOGIN, for use through SET ROLE or membership (false, the default).</summary>
    public bool AppRoleCanLogin { get; init; }

    /// <summary>The schema of the tables, views and helper function. Default <c>public</c>.</summary>
    public string Schema { get; init; } = "public";

    /// <summary>The tenant column of every tenant table. Default <c>tenant_id</c>.</summary>
    public string TenantColumn { get; init; } = "tenant_id";

    /// <summary>The tenant column's type: <c>uuid</c> (default), <c>text</c>, <c>bigint</c> or <c>integer</c>.</summary>
    public string TenantType { get; init; } = "uuid";

    /// <summary>The setting that carries the tenant id. Default <c>app.tenant_id</c> (as in <c>TenantDataSourceOptions</c>).</summary>
    public string TenantSetting { get; init; } = "app.tenant_id";

    /// <summary>The generated helper function. Default <c>current_tenant_id</c>.</summary>
    public string HelperFunction { get; init; } = "current_tenant_id";

    /// <summary>The name of the generated policy on each table. Default <c>tenant_isolation</c>.</summary>
    public string PolicyName { get; init; } = "tenant_isolation";

    /// <summary>Adds a tenant table.</summary>
    /// <param name="name">The table name.</param>
    /// <param name="configure">Declares its unique keys, references and partitions.</param>
    /// <returns>This model.</returns>
    public TenantSchema Table(string name, Action<TenantTable>? configure = null)
    {
        var table = new TenantTable(name, nameof(name));
        if (_tables.Any(t => t.Name == table.Name))
        {
            throw new ArgumentException($"Table '{table.Name}' is declared twice.", nameof(name));
        }

        configure?.Invoke(table);
        _tables.Add(table);
        return this;
    }

    /// <summary>Adds a view over tenant tables: it is switched to <c>security_invoker</c> so the caller's policies apply.</summary>
    /// <param name="name">The view name.</param>
    /// <returns>This model.</returns>
    public TenantSchema View(string name)
    {
        _views.Add(PostgresNames.PlainIdentifier(name, "view", nameof(name)));
        return this;
    }

    /// <summary>Generates the idempotent up and down SQL.</summary>
    /// <returns>The migration.</returns>
    /// <exception cref="ArgumentException">A name is not a plain identifier (the schema, tenant column and policy names also no PostgreSQL key word other than an unreserved one), a type is unsupported, or a reference points outside the model.</exception>
    public RlsMigration GenerateMigration()
    {
        var schema = PostgresNames.UnquotedIdentifier(Schema, "schema", nameof(Schema));
        var col = PostgresNames.UnquotedIdentifier(TenantColumn, "tenant column", nameof(TenantColumn));
        var helper = PostgresNames.PlainIdentifier(HelperFunction, "helper function", nameof(HelperFunction));
        var policy = PostgresNames.UnquotedIdentifier(PolicyName, "policy", nameof(PolicyName));
        PostgresNames.SettingName(TenantSetting, "tenant", nameof(TenantSetting));
        if (!TenantTypes.Contains(TenantType))
        {
            throw new ArgumentException($"Tenant type '{TenantType}' is not supported; use one of {string.Join(", ", TenantTypes)}.", nameof(TenantType));
        }

        if (_tables.Count == 0)
        {
            throw new InvalidOperationException("The model has no tenant tables; add them with Table(name).");
        }

        var role = AppRole;
        var fn = $"{schema}.{PostgresNames.Identifier(helper)}()";
        // The catalog name of the type: 'bigint' and 'integer' are SQL syntax, pg_catalog.bigint does not exist.
        var type = TenantType switch
        {
            "bigint" => "int8",
            "integer" => "int4",
            _ => TenantType,
        };
        var cast = type == "text" ? "" : "::pg_catalog." + type;
        var check = $"{col} = (SELECT {fn})";

        // Every unique key a reference needs, plus the declared ones, once each.
        var uniques = new List<(string Table, string[] Columns)>();
        void AddUnique(string table, string[] columns)
        {
            if (!uniques.Any(u => u.Table == table && u.Columns.SequenceEqual(columns)))
            {
                uniques.Add((table, columns));
            }
        }

        foreach (var t in _tables)
        {
            foreach (var u in t.Uniques)
            {
                AddUnique(t.Name, u);
            }

            foreach (var r in t.ForeignKeys)
            {
                if (!_tables.Any(x => x.Name == r.Target))
                {
                    throw new ArgumentException($"Table '{t.Name}' references '{r.Target}', which is not a tenant table of this model; composite ({col}, ...) keys need both sides declared with Table().", "targetTable");
                }

                AddUnique(r.Target, r.TargetColumns);
            }
        }

        var up = new StringBuilder();
        up.AppendLine("-- Hardening.Rls migration (up). Idempotent: running it again changes nothing. Run as one command (atomic).");
        var login = AppRoleCanLogin ? "LOGIN" : "NOLOGIN";
        var lit = PostgresNames.Literal(role);
        var owned = string.Join(", ", _tables.SelectMany(t => t.PartitionNames.Prepend(t.Name)).Select(n => PostgresNames.Literal($"{schema}.{n}")));
        up.AppendLine($$"""
            -- Role hygiene: every attribute and membership through which the role could get around the policies goes.
            -- CREATEROLE lets a role grant itself any non-superuser role (the tables' owner, pg_execute_server_program);
            -- REPLICATION streams every tenant's rows; a member of a role that is superuser, BYPASSRLS, CREATEROLE or
            -- REPLICATION, owns a table with row-level security or the helper, or may run programs or touch server files
            -- can SET ROLE to it.
            DO $rls$ DECLARE g record; d record; BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {{lit}}) THEN
                -- Roles belong to the cluster: a migration of another database may create it at the same moment.
                BEGIN
                  CREATE ROLE {{role}} {{login}} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                  NULL;
                END;
              END IF;
              IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {{lit}}
                            AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolreplication OR rolcanlogin <> {{(AppRoleCanLogin ? "true" : "false")}})) THEN
                ALTER ROLE {{role}} {{login}} NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOREPLICATION;
              END IF;
              FOR g IN SELECT m.roleid::pg_catalog.regrole::pg_catalog.text AS granted
                       FROM pg_catalog.pg_auth_members m
                       WHERE m.member = {{lit}}::pg_catalog.regrole
                         AND EXISTS (SELECT FROM pg_catalog.pg_roles x
                                     WHERE pg_catalog.pg_has_role(m.roleid, x.oid, 'MEMBER')
                                       AND (x.rolsuper OR x.rolbypassrls OR x.rolcreaterole OR x.rolreplication
                                            OR x.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')
                                            OR EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relowner = x.oid
                                                         AND (c.relrowsecurity OR c.oid = ANY (ARRAY[{{owned}}]::pg_catalog.regclass[])))
                                            OR EXISTS (SELECT FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                                                       WHERE p.proowner = x.oid AND n.nspname = {{PostgresNames.Literal(schema)}} AND p.proname = {{PostgresNames.Literal(helper)}})))
              LOOP
                EXECUTE pg_catalog.format('REVOKE %s FROM %I', g.granted, {{lit}});
              END LOOP;
              -- A default of the tenant setting turns "no context" (no rows) into "some tenant".
              FOR d IN SELECT s.setrole, s.setdatabase FROM pg_catalog.pg_db_role_setting s
                       WHERE s.setrole IN (0, {{lit}}::pg_catalog.regrole)
                         AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))
                         AND EXISTS (SELECT FROM pg_catalog.unnest(s.setconfig) c WHERE c LIKE {{PostgresNames.Literal(TenantSetting + "=%")}})
              LOOP
                EXECUTE CASE WHEN d.setrole = 0 AND d.setdatabase = 0 THEN 'ALTER ROLE ALL'
                             WHEN d.setrole = 0 THEN pg_catalog.format('ALTER DATABASE %I', pg_catalog.current_database())
                             WHEN d.setdatabase = 0 THEN 'ALTER ROLE {{role}}'
                             ELSE pg_catalog.format('ALTER ROLE {{role}} IN DATABASE %I', pg_catalog.current_database()) END
                        || ' RESET ' || {{PostgresNames.Literal(TenantSetting)}};
              END LOOP;
            END $rls$;
            """);
        up.AppendLine($"""
            GRANT USAGE ON SCHEMA {schema} TO {role};
            -- The helper pins no search_path on purpose: a SET clause stops PostgreSQL from inlining it into the
            -- policies, which then call it once per execution (half the throughput of a prepared lookup). Every name in
            -- it is schema-qualified instead, so the caller's search_path cannot redirect it.
            CREATE OR REPLACE FUNCTION {fn} RETURNS pg_catalog.{type}
              LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
              AS $fn$ SELECT nullif(pg_catalog.current_setting({PostgresNames.Literal(TenantSetting)}, true), ''::pg_catalog.text){cast} $fn$;
            REVOKE ALL ON FUNCTION {fn} FROM PUBLIC;
            GRANT EXECUTE ON FUNCTION {fn} TO {role};
            DO $rls$ BEGIN
              IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = '{fn}'::pg_catalog.regprocedure) = {PostgresNames.Literal(role)}::pg_catalog.regrole THEN
                ALTER FUNCTION {fn} OWNER TO CURRENT_USER;
              END IF;
            END $rls$;
            """);

        foreach (var t in _tables)
        {
            var q = $"{schema}.{PostgresNames.Identifier(t.Name)}";
            var idx = PostgresNames.Derived(t.Name, col, "rls_idx");
            up.AppendLine($"""
                ALTER TABLE {q} ALTER COLUMN {col} SET NOT NULL;
                DO $rls$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                 WHERE i.indrelid = '{q}'::regclass AND a.attname = {PostgresNames.Literal(col)}) THEN
                    CREATE INDEX {idx} ON {q} ({col});
                  END IF;
                END $rls$;
                """);
        }

        foreach (var (table, columns) in uniques)
        {
            var q = $"{schema}.{PostgresNames.Identifier(table)}";
            var name = PostgresNames.Derived([table, col, .. columns, "rls_key"]);
            var names = string.Join(", ", new[] { col }.Concat(columns).Select(PostgresNames.Literal));
            up.AppendLine($"""
                DO $rls$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i
                                 WHERE i.indrelid = '{q}'::regclass AND i.indisunique AND i.indpred IS NULL
                                   AND ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                                             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[]
                                       = ARRAY[{names}]::text[]) THEN
                    ALTER TABLE {q} ADD CONSTRAINT {name} UNIQUE ({col}, {string.Join(", ", columns)});
                  END IF;
                END $rls$;
                """);
        }

        foreach (var t in _tables)
        {
            foreach (var r in t.ForeignKeys)
            {
                var q = $"{schema}.{PostgresNames.Identifier(t.Name)}";
                var name = PostgresNames.Derived([t.Name, .. r.Columns, "rls_fkey"]);
                up.AppendLine($"""
                    DO $rls$ BEGIN
                      IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = '{q}'::regclass AND conname = {PostgresNames.Literal(name)}) THEN
                        ALTER TABLE {q} ADD CONSTRAINT {name} FOREIGN KEY ({col}, {string.Join(", ", r.Columns)}) REFERENCES {schema}.{PostgresNames.Identifier(r.Target)} ({col}, {string.Join(", ", r.TargetColumns)});
                      END IF;
                    END $rls$;
                    """);
            }
        }

        foreach (var q in _tables.SelectMany(t => t.PartitionNames.Prepend(t.Name)).Select(n => $"{schema}.{PostgresNames.Identifier(n)}"))
        {
            up.AppendLine($"""
                DO $rls$ BEGIN
                  IF (SELECT relowner FROM pg_catalog.pg_class WHERE oid = '{q}'::pg_catalog.regclass) = {PostgresNames.Literal(role)}::pg_catalog.regrole THEN
                    ALTER TABLE {q} OWNER TO CURRENT_USER;
                  END IF;
                END $rls$;
                ALTER TABLE {q} ENABLE ROW LEVEL SECURITY;
                ALTER TABLE {q} FORCE ROW LEVEL SECURITY;
                REVOKE TRUNCATE, REFERENCES ON {q} FROM PUBLIC, {role};
                GRANT SELECT, INSERT, UPDATE, DELETE ON {q} TO {role};
                DROP POLICY IF EXISTS {policy} ON {q};
                CREATE POLICY {policy} ON {q} AS PERMISSIVE FOR ALL TO {role}
                  USING ({check})
                  WITH CHECK ({check});
                """);
        }

        foreach (var v in _views)
        {
            up.AppendLine($"""
                ALTER VIEW {schema}.{PostgresNames.Identifier(v)} SET (security_invoker = true);
                GRANT SELECT ON {schema}.{PostgresNames.Identifier(v)} TO {role};
                """);
        }

        var down = new StringBuilder();
        down.AppendLine("-- Hardening.Rls migration (down). Idempotent. The role is kept; drop it yourself (REASSIGN OWNED / DROP OWNED / DROP ROLE) if nothing else uses it.");
        foreach (var v in _views)
        {
            down.AppendLine($"""
                REVOKE SELECT ON {schema}.{PostgresNames.Identifier(v)} FROM {role};
                ALTER VIEW {schema}.{PostgresNames.Identifier(v)} RESET (security_invoker);
                """);
        }

        foreach (var q in _tables.SelectMany(t => t.PartitionNames.Prepend(t.Name)).Select(n => $"{schema}.{PostgresNames.Identifier(n)}"))
        {
            down.AppendLine($"""
                DROP POLICY IF EXISTS {policy} ON {q};
                ALTER TABLE {q} NO FORCE ROW LEVEL SECURITY;
                ALTER TABLE {q} DISABLE ROW LEVEL SECURITY;
                REVOKE SELECT, INSERT, UPDATE, DELETE ON {q} FROM {role};
                """);
        }

        foreach (var t in _tables)
        {
            foreach (var r in t.ForeignKeys)
            {
                down.AppendLine($"ALTER TABLE {schema}.{PostgresNames.Identifier(t.Name)} DROP CONSTRAINT IF EXISTS {PostgresNames.Derived([t.Name, .. r.Columns, "rls_fkey"])};");
            }
        }

        foreach (var (table, columns) in uniques)
        {
            down.AppendLine($"ALTER TABLE {schema}.{PostgresNames.Identifier(table)} DROP CONSTRAINT IF EXISTS {PostgresNames.Derived([table, col, .. columns, "rls_key"])};");
        }

        foreach (var t in _tables)
        {
            down.AppendLine($"DROP INDEX IF EXISTS {schema}.{PostgresNames.Derived(t.Name, col, "rls_idx")};");
        }

        down.AppendLine($"""
            DROP FUNCTION IF EXISTS {fn};
            DO $rls$ BEGIN
              IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {PostgresNames.Literal(role)}) THEN
                REVOKE USAGE ON SCHEMA {schema} FROM {role};
              END IF;
            END $rls$;
            """);

        return new RlsMigration(up.ToString(), down.ToString());
    }
}
