using Npgsql;

namespace Hardening.Drills.Backup;

/// <summary>Row count and content checksum of one table: md5 over the md5 of each row's text, ordered by primary key.</summary>
internal sealed record TableChecksum(string Table, long Rows, string Checksum);

/// <summary>
/// What a backup must carry over, read from the catalogs: tables' RLS flags, policies, triggers, functions, grants on
/// the database, schemas, tables, sequences and functions, default privileges, and the roles they name (attributes,
/// password hash, memberships). Each entry is one line of text keyed by what it is about, so two fingerprints compare
/// as sets and a difference names the object.
/// </summary>
internal sealed record SchemaFingerprint(IReadOnlyDictionary<string, string> Entries)
{
    /// <summary>Entries of one kind (the key's prefix: <c>rls</c>, <c>policy</c>, <c>trigger</c>, <c>function</c>, <c>grant</c>, <c>role</c>, <c>member</c>).</summary>
    public int Count(string kind) => Entries.Keys.Count(k => k.StartsWith(kind + " ", StringComparison.Ordinal));
}

/// <summary>Reads <see cref="TableChecksum"/>s and <see cref="SchemaFingerprint"/>s, and compares them.</summary>
internal static class DatabaseFingerprint
{
    // Every session that reads a fingerprint renders values the same way (timestamps, floats, bytea).
    private const string Session = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'; SET row_security = off";

    /// <summary>The user tables (not the catalogs) with their primary-key columns (empty: none), as quoted identifiers.</summary>
    public static async Task<IReadOnlyList<(string Table, string[] Key)>> TablesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT format('%I.%I', n.nspname, c.relname),
                   coalesce((SELECT array_agg(format('%I', a.attname) ORDER BY k.ord)
                             FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                             WHERE i.indrelid = c.oid AND i.indisprimary), '{}')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            ORDER BY 1
            """, connection);
        var tables = new List<(string, string[])>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) tables.Add((reader.GetString(0), reader.GetFieldValue<string[]>(1)));
        return tables;
    }

    /// <summary>Sets the session's rendering settings (run once per connection before reading checksums).</summary>
    public static async Task PrepareSessionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(Session, connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Counts and checksums every user table, in the connection's current transaction (as a superuser, so RLS hides nothing).</summary>
    public static async Task<IReadOnlyList<TableChecksum>> ChecksumsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var result = new List<TableChecksum>();
        foreach (var (table, key) in await TablesAsync(connection, cancellationToken))
        {
            // Without a primary key the rows are ordered by their own text, which is as good for a multiset.
            var order = key.Length > 0 ? string.Join(", ", key.Select(k => "t." + k)) : "t::text";
            await using var cmd = new NpgsqlCommand($"SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY {order}), '')) FROM {table} t", connection);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            result.Add(new TableChecksum(table, reader.GetInt64(0), reader.GetString(1)));
        }

        return result;
    }

    /// <summary>Reads the schema fingerprint of the connection's database (and the cluster's roles it depends on).</summary>
    public static async Task<SchemaFingerprint> SchemaAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Grants: the ACL with the owner's implicit default filled in and sorted, so an explicit owner-only ACL (which
        // pg_dump leaves out, as it equals the default) and a reordered one compare equal.
        // Roles: every role but the built-in pg_* ones and the bootstrap superuser (whose password is the cluster's own).
        const string Sql = """
            SELECT 'rls ' || format('%I.%I', n.nspname, c.relname), format('enable=%s force=%s', c.relrowsecurity, c.relforcerowsecurity)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT 'policy ' || format('%I.%I %I', schemaname, tablename, policyname),
                   format('%s %s to=%s using=(%s) check=(%s)', permissive, cmd, roles::text, qual, with_check)
            FROM pg_policies
            UNION ALL
            SELECT 'trigger ' || format('%s %I', t.tgrelid::regclass, t.tgname), pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
            FROM pg_trigger t WHERE NOT t.tgisinternal
            UNION ALL
            SELECT 'function ' || p.oid::regprocedure::text,
                   format('secdef=%s config=%s md5=%s', p.prosecdef, p.proconfig, md5(pg_get_functiondef(p.oid)))
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
            UNION ALL
            SELECT 'grant database', (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(d.datacl, acldefault('d', d.datdba))) a) FROM pg_database d WHERE d.datname = current_database()
            UNION ALL
            SELECT 'grant schema ' || format('%I', n.nspname), (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) a) || ' owner=' || n.nspowner::regrole
            FROM pg_namespace n WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT 'grant ' || (CASE c.relkind WHEN 'S' THEN 'sequence ' ELSE 'table ' END) || format('%I.%I', n.nspname, c.relname),
                   (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a) || ' owner=' || c.relowner::regrole
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT 'grant function ' || p.oid::regprocedure::text, (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a) || ' owner=' || p.proowner::regrole
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT 'grant default ' || format('%s %s %s', d.defaclrole::regrole, coalesce(d.defaclnamespace::regnamespace::text, '*'), d.defaclobjtype), (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(d.defaclacl) a)
            FROM pg_default_acl d
            UNION ALL
            SELECT 'role ' || format('%I', r.rolname),
                   format('super=%s inherit=%s createrole=%s createdb=%s login=%s replication=%s bypassrls=%s connlimit=%s password=%s valid=%s config=%s',
                          r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls,
                          r.rolconnlimit, md5(coalesce(r.rolpassword, '')), r.rolvaliduntil, s.setconfig)
            FROM pg_authid r LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
            WHERE r.rolname NOT LIKE 'pg\_%' AND r.oid <> 10
            UNION ALL
            SELECT 'member ' || format('%I in %I', m.member::regrole, m.roleid::regrole), format('admin=%s', m.admin_option)
            FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname NOT LIKE 'pg\_%'
            """;
        await using var cmd = new NpgsqlCommand(Sql, connection);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) entries[reader.GetString(0)] = reader.IsDBNull(1) ? "" : reader.GetString(1);
        return new SchemaFingerprint(entries);
    }

    /// <summary>Identity and serial sequences whose next value would collide with a stored key (restored behind their column).</summary>
    public static async Task<IReadOnlyList<string>> SequencesBehindAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT format('%I.%I', n.nspname, c.relname), format('%I', a.attname), s.seqrelid::regclass::text
            FROM pg_depend d
            JOIN pg_sequence s ON s.seqrelid = d.objid
            JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
            """, connection);
        var sequences = new List<(string Table, string Column, string Sequence)>();
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) sequences.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        var behind = new List<string>();
        foreach (var (table, column, sequence) in sequences)
        {
            await using var check = new NpgsqlCommand($"SELECT (SELECT max({column}) FROM {table}), (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence})", connection);
            await using var reader = await check.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (!reader.IsDBNull(0) && Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture) > reader.GetInt64(1))
            {
                behind.Add($"sequence {sequence} is at {reader.GetInt64(1)} but {table}.{column} holds {reader.GetValue(0)}: the next insert would collide");
            }
        }

        return behind;
    }

    /// <summary>Differences between two sets of table checksums, each naming its table.</summary>
    public static IReadOnlyList<string> Compare(IReadOnlyList<TableChecksum> expected, IReadOnlyList<TableChecksum> actual)
    {
        var differences = new List<string>();
        var found = actual.ToDictionary(t => t.Table, StringComparer.Ordinal);
        foreach (var e in expected)
        {
            if (!found.Remove(e.Table, out var a)) differences.Add($"table {e.Table} is missing ({e.Rows} rows expected)");
            else if (a.Rows != e.Rows) differences.Add($"table {e.Table} has {a.Rows} rows, expected {e.Rows}");
            else if (a.Checksum != e.Checksum) differences.Add($"table {e.Table} has the expected {e.Rows} rows but different content (checksum {a.Checksum}, expected {e.Checksum})");
        }

        differences.AddRange(found.Keys.Select(t => $"table {t} is not in the source"));
        return differences;
    }

    /// <summary>Differences between two schema fingerprints, each naming the object.</summary>
    public static IReadOnlyList<string> Compare(SchemaFingerprint expected, SchemaFingerprint actual)
    {
        var differences = new List<string>();
        foreach (var (key, value) in expected.Entries)
        {
            if (!actual.Entries.TryGetValue(key, out var other)) differences.Add($"{key} is missing");
            else if (other != value) differences.Add($"{key} differs: '{other}', expected '{value}'");
        }

        differences.AddRange(actual.Entries.Keys.Where(k => !expected.Entries.ContainsKey(k)).Select(k => $"{k} is not in the source"));
        return differences;
    }
}
