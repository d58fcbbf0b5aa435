namespace Hardening.Rls;

/// <summary>The catalog query behind every rule: one round trip, one row per finding (rule, object, detail, remediation).</summary>
/// <remarks>Parameters: $1 application role (null = current_user), $2 tenant column, $3 schemas (null = all non-system), $4 context setting names.</remarks>
internal static class LintQuery
{
    public const string Sql = """
        WITH RECURSIVE app AS (
          SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolreplication FROM pg_catalog.pg_roles r WHERE r.rolname = coalesce($1, current_user)
        ),
        tt AS (
          SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS qname, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
                 c.relispartition AS part, c.relowner, c.relacl, a.attnum AS tcol, a.attnotnull AS tnotnull
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
          WHERE c.relkind IN ('r', 'p')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
            AND ($3::text[] IS NULL OR n.nspname = ANY ($3::text[]))
        ),
        pol AS (
          SELECT tt.qname, p.polname, p.polcmd, p.polpermissive,
                 pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS q, pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS c
          FROM pg_catalog.pg_policy p JOIN tt ON tt.oid = p.polrelid
        ),
        -- functions the policies of tenant tables call: whoever owns one can change what every policy compares with
        polfn AS (
          SELECT DISTINCT f.oid, f.proowner, f.oid::regprocedure::text AS sig
          FROM pg_catalog.pg_policy p
          JOIN tt ON tt.oid = p.polrelid
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_catalog.pg_proc'::regclass
          JOIN pg_catalog.pg_proc f ON f.oid = d.refobjid
          JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
          WHERE fn.nspname <> 'pg_catalog'
        ),
        -- roles through which a member gets around the policies (SET ROLE works whatever INHERIT says)
        priv AS (
          SELECT r.oid, r.rolname,
                 CASE WHEN r.rolsuper THEN 'is a superuser' WHEN r.rolbypassrls THEN 'has BYPASSRLS'
                      WHEN r.rolcreaterole THEN 'has CREATEROLE (it can grant itself the tables'' owner)'
                      WHEN r.rolreplication THEN 'has REPLICATION (it can stream every tenant''s rows)'
                      WHEN r.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files') THEN 'reaches the server''s programs or files'
                      WHEN EXISTS (SELECT FROM tt WHERE tt.relowner = r.oid) THEN 'owns a tenant table'
                      ELSE 'owns a function the policies call' END AS why
          FROM pg_catalog.pg_roles r
          WHERE r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolreplication
             OR r.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')
             OR EXISTS (SELECT FROM tt WHERE tt.relowner = r.oid) OR EXISTS (SELECT FROM polfn WHERE polfn.proowner = r.oid)
        ),
        -- what each view or materialized view reads, directly or through other views
        vdep AS (
          SELECT DISTINCT rw.ev_class AS v, d.refobjid AS r
          FROM pg_catalog.pg_rewrite rw
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = rw.oid
                                      AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> rw.ev_class
        ),
        -- A relation under a view is read as the view's owner unless the view is security_invoker, and an invoker
        -- view reads as the querying user even inside an owner-rights view: what matters is the view right above the
        -- table (bottom), and every owner-rights view stacked on top of one that leaks.
        vreach AS (
          SELECT vdep.v, vdep.r AS t, (c.relkind = 'm' OR NOT EXISTS (SELECT FROM unnest(c.reloptions) o
                                                                     WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes'))) AS bottom
          FROM vdep JOIN pg_catalog.pg_class c ON c.oid = vdep.v
          UNION
          SELECT vdep.v, vr.t, vr.bottom FROM vreach vr JOIN vdep ON vdep.r = vr.v
        ),
        fns AS (
          SELECT p.oid, format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) AS sig, p.proconfig, p.prorettype
          FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND ($3::text[] IS NULL OR n.nspname = ANY ($3::text[]))
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        )
        SELECT 'app_role_missing', coalesce($1, current_user)::text,
               'The application role does not exist, so nothing about it can be checked.',
               format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS;', coalesce($1, current_user))
        WHERE NOT EXISTS (SELECT FROM app)
        UNION ALL
        SELECT 'rls_disabled', qname, 'The table has the tenant column but row-level security is disabled: every tenant''s rows are visible.',
               format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY; ALTER TABLE %s FORCE ROW LEVEL SECURITY;', qname, qname)
        FROM tt WHERE NOT part AND NOT rls
        UNION ALL
        SELECT 'rls_not_forced', qname, 'Row-level security is enabled but not forced: the table owner (and anything running as it) bypasses the policies.',
               format('ALTER TABLE %s FORCE ROW LEVEL SECURITY;', qname)
        FROM tt WHERE NOT part AND rls AND NOT forced
        UNION ALL
        SELECT 'rls_without_policy', qname, 'Row-level security is on but the table has no policy: every query as the application role sees no rows.',
               format('CREATE POLICY tenant_isolation ON %s FOR ALL TO <app role> USING (%I = (SELECT <helper>())) WITH CHECK (%I = (SELECT <helper>()));', qname, $2, $2)
        FROM tt WHERE NOT part AND rls AND NOT EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = tt.oid)
        UNION ALL
        SELECT 'policy_always_true', format('%s policy %I', qname, polname),
               format('The permissive policy is always true or does not filter on %I (USING %s, WITH CHECK %s): it opens the table to every tenant.', $2, coalesce(q, '-'), coalesce(c, '-')),
               format('DROP POLICY %I ON %s;', polname, qname)
        FROM pol
        WHERE polpermissive AND ((q IS NOT NULL AND (lower(q) = 'true' OR q !~ ('\m' || $2 || '\M')))
                              OR (c IS NOT NULL AND (lower(c) = 'true' OR c !~ ('\m' || $2 || '\M'))))
        UNION ALL
        SELECT 'policy_missing_with_check', format('%s policy %I', qname, polname),
               'The policy allows writes but has no WITH CHECK, so what may be written is only implied by USING; state it explicitly.',
               format('ALTER POLICY %I ON %s WITH CHECK (%s);', polname, qname, coalesce(q, format('%I = (SELECT <helper>())', $2)))
        FROM pol WHERE polcmd IN ('*', 'a', 'w') AND c IS NULL
        UNION ALL
        SELECT 'policy_per_row_evaluation', format('%s policy %I', qname, polname),
               format('The policy calls a function outside a sub-select (USING %s, WITH CHECK %s), so it runs once per row instead of once per statement.', coalesce(q, '-'), coalesce(c, '-')),
               format('ALTER POLICY %I ON %s USING (%I = (SELECT <helper>())) WITH CHECK (%I = (SELECT <helper>()));', polname, qname, $2, $2)
        FROM pol
        WHERE (q ~* '[a-z_][a-z0-9_.]*\(' AND q !~* '\(\s*select\M') OR (c ~* '[a-z_][a-z0-9_.]*\(' AND c !~* '\(\s*select\M')
        UNION ALL
        SELECT 'policy_helper_not_inlinable', f.oid::regprocedure::text,
               format('Policies call this SQL function (%s), which PostgreSQL cannot inline (%s): every execution calls it and plans its body again, about half the throughput of a prepared tenant lookup.',
                      string_agg(DISTINCT format('%s policy %I', tt.qname, p.polname), ', '),
                      CASE WHEN f.prosecdef THEN 'SECURITY DEFINER' ELSE 'SET ' || array_to_string(f.proconfig, ', ') END),
               format('ALTER FUNCTION %s SECURITY INVOKER RESET ALL; -- after schema-qualifying every name in its body (pg_catalog.current_setting, ::pg_catalog.uuid)', f.oid::regprocedure::text)
        FROM pg_catalog.pg_policy p
        JOIN tt ON tt.oid = p.polrelid
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_catalog.pg_proc'::regclass
        JOIN pg_catalog.pg_proc f ON f.oid = d.refobjid
        WHERE f.prolang = (SELECT l.oid FROM pg_catalog.pg_language l WHERE l.lanname = 'sql') AND NOT f.proretset
          AND (f.prosecdef OR f.proconfig IS NOT NULL)
        GROUP BY f.oid, f.prosecdef, f.proconfig
        UNION ALL
        SELECT 'app_role_superuser', rolname::text, 'The application role is a superuser: superusers bypass every policy.',
               format('ALTER ROLE %I NOSUPERUSER;', rolname)
        FROM app WHERE rolsuper
        UNION ALL
        SELECT 'app_role_bypassrls', rolname::text, 'The application role has BYPASSRLS: it ignores every policy.',
               format('ALTER ROLE %I NOBYPASSRLS;', rolname)
        FROM app WHERE rolbypassrls
        UNION ALL
        SELECT 'app_role_owns_tenant_table', tt.qname, format('The application role %I owns the tenant table: owners can disable RLS, drop policies and TRUNCATE.', app.rolname),
               format('ALTER TABLE %s OWNER TO CURRENT_USER; -- run as the migration role', tt.qname)
        FROM tt JOIN app ON tt.relowner = app.oid
        UNION ALL
        SELECT 'app_role_createrole', rolname::text,
               'The application role has CREATEROLE: it can grant itself the tables'' owner (or pg_execute_server_program), SET ROLE to it and switch row-level security off.',
               format('ALTER ROLE %I NOCREATEROLE;', rolname)
        FROM app WHERE rolcreaterole AND NOT rolsuper
        UNION ALL
        SELECT 'app_role_replication', rolname::text,
               'The application role has REPLICATION: a replication connection (base backup, logical decoding) reads every tenant''s rows without row-level security.',
               format('ALTER ROLE %I NOREPLICATION;', rolname)
        FROM app WHERE rolreplication AND NOT rolsuper
        UNION ALL
        SELECT 'app_role_owns_policy_function', polfn.sig,
               format('The application role %I owns this function, which policies of tenant tables call: it can change what it returns for every session (ALTER FUNCTION ... SET <tenant setting> = ...).', app.rolname),
               format('ALTER FUNCTION %s OWNER TO CURRENT_USER; -- run as the migration role', polfn.sig)
        FROM polfn JOIN app ON polfn.proowner = app.oid
        WHERE NOT app.rolsuper
        UNION ALL
        SELECT 'app_role_reaches_privileged_role', app.rolname::text,
               format('The application role %I is a member of %I (directly or through other roles, with or without INHERIT), which %s: through SET ROLE it gets around the policies.',
                      app.rolname, priv.rolname, priv.why),
               coalesce((SELECT string_agg(format('REVOKE %I FROM %I;', g.roleid::regrole::text, app.rolname), ' ' ORDER BY g.roleid::regrole::text)
                         FROM pg_catalog.pg_auth_members g
                         WHERE g.member = app.oid AND pg_catalog.pg_has_role(g.roleid, priv.oid, 'MEMBER')),
                        format('REVOKE %I FROM %I;', priv.rolname, app.rolname))
        FROM app JOIN priv ON priv.oid <> app.oid AND pg_catalog.pg_has_role(app.oid, priv.oid, 'MEMBER')
        WHERE NOT app.rolsuper
        UNION ALL
        SELECT 'context_setting_default',
               CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN 'all roles'
                    WHEN s.setrole = 0 THEN format('database %I', current_database())
                    WHEN s.setdatabase = 0 THEN format('role %I', app.rolname)
                    ELSE format('role %I in database %I', app.rolname, current_database()) END,
               format('A default sets %s for the application role''s sessions: "no context" is then "this tenant" instead of no rows.', c.cfg),
               CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN format('ALTER ROLE ALL RESET %s;', c.name)
                    WHEN s.setrole = 0 THEN format('ALTER DATABASE %I RESET %s;', current_database(), c.name)
                    WHEN s.setdatabase = 0 THEN format('ALTER ROLE %I RESET %s;', app.rolname, c.name)
                    ELSE format('ALTER ROLE %I IN DATABASE %I RESET %s;', app.rolname, current_database(), c.name) END
        FROM app
        JOIN pg_catalog.pg_db_role_setting s ON s.setrole IN (0, app.oid)
             AND s.setdatabase IN (0, (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database()))
        CROSS JOIN LATERAL (SELECT cfg, split_part(cfg, '=', 1) AS name FROM unnest(s.setconfig) cfg) c
        WHERE c.name = ANY ($4::text[])
        UNION ALL
        SELECT DISTINCT CASE a.privilege_type WHEN 'TRUNCATE' THEN 'truncate_granted' ELSE 'references_granted' END, tt.qname,
               format('%s on the tenant table is granted to %s%s.', a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                      CASE a.privilege_type WHEN 'TRUNCATE' THEN ': TRUNCATE ignores row-level security and empties every tenant' ELSE ': foreign keys to it can probe other tenants'' keys' END),
               format('REVOKE %s ON %s FROM %s;', a.privilege_type, tt.qname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END)
        FROM tt CROSS JOIN app CROSS JOIN LATERAL pg_catalog.aclexplode(tt.relacl) a
        WHERE a.privilege_type IN ('TRUNCATE', 'REFERENCES') AND a.grantee <> tt.relowner
          AND (a.grantee = 0 OR pg_catalog.pg_has_role(app.oid, a.grantee, 'MEMBER'))
        UNION ALL
        SELECT DISTINCT CASE v.relkind WHEN 'v' THEN 'view_without_security_invoker' ELSE 'materialized_view_over_tenant_table' END,
               format('%I.%I', vn.nspname, v.relname),
               CASE v.relkind WHEN 'v' THEN format('The view reads the tenant table %s (directly or through other views) as its owner (no security_invoker), so the caller''s policies do not apply.', tt.qname)
                              ELSE format('The materialized view copies the tenant table %s; materialized views have no row-level security.', tt.qname) END,
               CASE v.relkind WHEN 'v' THEN format('ALTER VIEW %I.%I SET (security_invoker = true);', vn.nspname, v.relname)
                              ELSE format('DROP MATERIALIZED VIEW %I.%I; -- use a security_invoker view or a tenant table with its own policy', vn.nspname, v.relname) END
        FROM pg_catalog.pg_class v
        JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
        JOIN vreach ON vreach.v = v.oid
        JOIN tt ON tt.oid = vreach.t
        WHERE v.relkind = 'm'
           OR (v.relkind = 'v' AND vreach.bottom AND NOT EXISTS (SELECT FROM unnest(v.reloptions) o
                                                                 WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes')))
        UNION ALL
        SELECT 'security_definer_mutable_search_path', sig,
               'The SECURITY DEFINER function has no pinned search_path: a caller can shadow the objects it uses and run code as its owner.',
               format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp;', sig)
        FROM fns WHERE NOT EXISTS (SELECT FROM unnest(coalesce(proconfig, '{}')) cfg WHERE cfg LIKE 'search\_path=%')
        UNION ALL
        SELECT 'security_definer_executable_by_app', sig,
               format('The application role %I can execute this SECURITY DEFINER function, which runs as its owner (possibly past row-level security).', app.rolname),
               format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, %I;', sig, app.rolname)
        FROM fns CROSS JOIN app WHERE pg_catalog.has_function_privilege(app.oid, fns.oid, 'EXECUTE')
          -- trigger functions cannot be called directly, so EXECUTE on them gives the caller nothing
          AND fns.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
        UNION ALL
        SELECT 'unique_without_tenant_column', format('%s index %I', tt.qname, ic.relname),
               format('The unique key (%s) does not include %I: a duplicate error tells one tenant that another tenant has that value.', cols.list, $2),
               CASE WHEN con.conname IS NOT NULL
                    THEN format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s (%I, %s);', tt.qname, con.conname, con.conname,
                                CASE con.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, $2, cols.list)
                    ELSE format('DROP INDEX %s; CREATE UNIQUE INDEX %I ON %s (%I, %s);', ic.oid::regclass::text, ic.relname, tt.qname, $2, cols.list) END
        FROM tt
        JOIN pg_catalog.pg_index i ON i.indrelid = tt.oid
        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
        LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = tt.oid AND con.contype IN ('p', 'u')
        CROSS JOIN LATERAL (SELECT coalesce(string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord), 'expression') AS list
                            FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                            JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) cols
        WHERE i.indisunique AND NOT (tt.tcol = ANY (i.indkey::int2[]))
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
        UNION ALL
        SELECT 'foreign_key_without_tenant_column', format('%s constraint %I', src.qname, con.conname),
               format('The foreign key %s does not pair %I with %I on %s: a row can point at another tenant''s row, and the check reveals whether it exists.',
                      pg_catalog.pg_get_constraintdef(con.oid), $2, $2, dst.qname),
               format('ALTER TABLE %s DROP CONSTRAINT %I; -- recreate as FOREIGN KEY (%I, ...) REFERENCES %s (%I, ...)', src.qname, con.conname, $2, dst.qname, $2)
        FROM pg_catalog.pg_constraint con
        JOIN tt src ON src.oid = con.conrelid
        JOIN tt dst ON dst.oid = con.confrelid
        WHERE con.contype = 'f' AND con.conparentid = 0
          AND NOT EXISTS (SELECT FROM generate_subscripts(con.conkey, 1) s WHERE con.conkey[s] = src.tcol AND con.confkey[s] = dst.tcol)
        UNION ALL
        SELECT 'partition_without_policy', qname,
               'Reading this partition directly bypasses the parent''s policy: ' || concat_ws(', ',
                 CASE WHEN NOT rls THEN 'row-level security is disabled' END,
                 CASE WHEN NOT forced THEN 'it is not forced' END,
                 CASE WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = tt.oid) THEN 'it has no policy' END) || '.',
               format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY; ALTER TABLE %s FORCE ROW LEVEL SECURITY; CREATE POLICY tenant_isolation ON %s FOR ALL TO <app role> USING (%I = (SELECT <helper>())) WITH CHECK (%I = (SELECT <helper>()));',
                      qname, qname, qname, $2, $2)
        FROM tt WHERE part AND (NOT rls OR NOT forced OR NOT EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = tt.oid))
        UNION ALL
        SELECT 'tenant_column_nullable', qname, format('%I is nullable: rows without a tenant belong to nobody and slip past equality checks in application code.', $2),
               format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL;', qname, $2)
        FROM tt WHERE NOT part AND NOT tnotnull
        UNION ALL
        SELECT 'tenant_column_unindexed', qname, format('No index starts with %I: every policy check scans the table.', $2),
               format('CREATE INDEX ON %s (%I);', qname, $2)
        FROM tt WHERE NOT part AND NOT EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = tt.oid AND i.indkey[0] = tt.tcol)
        """;

    /// <summary>
    /// The tables the behaviour probe tries: tenant-column tables (partitions too) with row-level security on, with the
    /// tenant column's type, which commands the probed role may run (INSERT only on plain tables and partitions), and a remediation for the permissive policies
    /// that apply to it. Parameters: $1 role, $2 tenant column, $3 schemas.
    /// </summary>
    public const string ProbeTables = """
        SELECT format('%I.%I', n.nspname, c.relname), format_type(a.atttypid, a.atttypmod),
               has_table_privilege($1, c.oid, 'SELECT'), has_table_privilege($1, c.oid, 'UPDATE'), has_table_privilege($1, c.oid, 'DELETE'),
               -- a partitioned table routes the row before any policy sees it, so its partitions are tried instead
               c.relkind = 'r' AND has_table_privilege($1, c.oid, 'INSERT'),
               coalesce((SELECT string_agg(format('ALTER POLICY %I ON %I.%I %s;', p.polname, n.nspname, c.relname,
                                                  CASE p.polcmd WHEN 'r' THEN format('USING (%I = (SELECT <helper>()))', $2)
                                                                WHEN 'd' THEN format('USING (%I = (SELECT <helper>()))', $2)
                                                                WHEN 'a' THEN format('WITH CHECK (%I = (SELECT <helper>()))', $2)
                                                                ELSE format('USING (%I = (SELECT <helper>())) WITH CHECK (%I = (SELECT <helper>()))', $2, $2) END),
                                           ' ' ORDER BY p.polname)
                         FROM pg_catalog.pg_policy p
                         WHERE p.polrelid = c.oid AND p.polpermissive
                           AND (0 = ANY (p.polroles) OR EXISTS (SELECT FROM unnest(p.polroles) r WHERE pg_catalog.pg_has_role($1, r, 'MEMBER')))),
                        '-- no permissive policy applies to the role: check the table''s owner, FORCE and the role''s attributes')
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
          AND ($3::text[] IS NULL OR n.nspname = ANY ($3::text[]))
        ORDER BY 1
        """;
}
