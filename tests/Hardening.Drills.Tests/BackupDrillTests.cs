using Hardening.Drills;
using Hardening.Drills.Backup;
using Hardening.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Hardening.Drills.Tests;

public sealed class BackupDrillTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Quick_drill_restores_the_dump_and_the_recovery_point_without_a_violation()
    {
        var output = new StringWriter();
        var result = await new BackupDrill().RunAsync(DrillArguments.Parse(["backup", "--quick"]), output, CancellationToken.None);
        log.WriteLine(output.ToString());
        Assert.True(result.Violations.Count == 0, string.Join('\n', result.Violations));

        // It did the work: rows written and dumped, WAL archived, a copy recovered, writes on both sides of the target.
        Assert.True((int)result.Figures["writes_acknowledged"]! > 0);
        Assert.True((long)result.Figures["snapshot_rows"]! > 0);
        Assert.Equal(result.Figures["snapshot_rows"], result.Figures["restored_rows"]);
        Assert.True((int)result.Figures["archive_wal_files"]! > 0);
        Assert.True((int)result.Figures["restored_policies"]! > 0);
        Assert.True((int)result.Figures["restored_triggers"]! > 0);
        Assert.True((long)result.Figures["pitr_rows_committed_before_target"]! > 0);
        Assert.True((long)result.Figures["pitr_source_rows_committed_after_target"]! > 0);
        Assert.True((int)result.Figures["pitr_journaled_candidates"]! > 0);
    }

    [Fact]
    public async Task Checksums_name_the_table_that_lost_a_row_or_changed_a_value()
    {
        var pg = await PostgresServer.Shared;
        var source = await pg.CreateDatabaseAsync("bk");
        await pg.ExecuteAsync("""
            CREATE TABLE a (tenant_id uuid NOT NULL, id int NOT NULL, name text, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
            CREATE TABLE b (id int PRIMARY KEY, v numeric);
            CREATE TABLE no_key (v text);
            INSERT INTO a (tenant_id, id, name) SELECT gen_random_uuid(), g, 'n' || g FROM generate_series(1, 50) g;
            INSERT INTO b SELECT g, g / 3.0 FROM generate_series(1, 50) g;
            INSERT INTO no_key VALUES ('x'), ('x'), ('y');
            """, source);
        var copy = await pg.CreateDatabaseAsync("bkcopy");
        await CopyDatabaseAsync(pg, source, copy);

        var expected = await ChecksumsAsync(pg, source);
        Assert.Empty(DatabaseFingerprint.Compare(expected, await ChecksumsAsync(pg, copy)));

        await pg.ExecuteAsync("DELETE FROM a WHERE id = 17", copy);
        var lost = DatabaseFingerprint.Compare(expected, await ChecksumsAsync(pg, copy));
        Assert.Equal("table public.a has 49 rows, expected 50", Assert.Single(lost));

        await pg.ExecuteAsync("INSERT INTO a (tenant_id, id, name) SELECT tenant_id, 17, name FROM a WHERE id = 16; UPDATE b SET v = v + 0.000001 WHERE id = 3", copy);
        var changed = DatabaseFingerprint.Compare(expected, await ChecksumsAsync(pg, copy));
        Assert.Equal(2, changed.Count);
        Assert.Contains(changed, d => d.StartsWith("table public.a has the expected 50 rows but different content", StringComparison.Ordinal));
        Assert.Contains(changed, d => d.StartsWith("table public.b has the expected 50 rows but different content", StringComparison.Ordinal));

        await pg.ExecuteAsync("DELETE FROM no_key WHERE ctid = (SELECT min(ctid) FROM no_key WHERE v = 'x'); INSERT INTO no_key VALUES ('y')", copy);
        Assert.Contains(DatabaseFingerprint.Compare(expected, await ChecksumsAsync(pg, copy)), d => d.StartsWith("table public.no_key has the expected 3 rows but different content", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Schema_fingerprint_names_a_missing_policy_trigger_grant_and_forced_rls()
    {
        var pg = await PostgresServer.Shared;
        var source = await pg.CreateDatabaseAsync("bks");
        await pg.ExecuteAsync($"""
            CREATE TABLE t (tenant_id uuid NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
            ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON t USING (tenant_id = current_setting('app.tenant_id', true)::uuid);
            CREATE FUNCTION guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            CREATE TRIGGER t_guard BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION guard();
            GRANT SELECT, INSERT ON t TO {PostgresServer.AppRole};
            """, source);
        var copy = await pg.CreateDatabaseAsync("bkscopy");
        await CopyDatabaseAsync(pg, source, copy);
        var expected = await SchemaAsync(pg, source);
        Assert.DoesNotContain(BackupDrill.NonVacuous(expected), v => !v.Contains("ats_app", StringComparison.Ordinal));
        Assert.Empty(DatabaseFingerprint.Compare(expected, await SchemaAsync(pg, copy)));

        await pg.ExecuteAsync($"""
            DROP POLICY tenant_isolation ON t; DROP TRIGGER t_guard ON t; ALTER TABLE t NO FORCE ROW LEVEL SECURITY;
            REVOKE INSERT ON t FROM {PostgresServer.AppRole};
            """, copy);
        var differences = DatabaseFingerprint.Compare(expected, await SchemaAsync(pg, copy));
        Assert.Contains("policy public.t tenant_isolation is missing", differences);
        Assert.Contains("trigger t t_guard is missing", differences);
        Assert.Contains(differences, d => d.StartsWith("rls public.t differs: 'enable=t force=f'", StringComparison.Ordinal));
        Assert.Contains(differences, d => d.StartsWith("grant table public.t differs", StringComparison.Ordinal));
        Assert.Equal(4, differences.Count);
    }

    [Fact]
    public void Recovery_point_flags_a_missing_row_before_the_target_and_a_row_after_it()
    {
        var target = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var before = target.AddMilliseconds(-5);
        var after = target.AddMilliseconds(5);
        var source = Tables(("(1)", "h1", before), ("(2)", "h2", before), ("(3)", "h3new", after), ("(4)", "h4", after));
        // The copy as recovery to the target should leave it: rows 1 and 2, row 3 in its older version, no row 4.
        var good = Tables(("(1)", "h1", before), ("(2)", "h2", before), ("(3)", "h3old", before.AddSeconds(-1)));
        var ok = RecoveryPoint.Compare(source, good, target);
        Assert.Empty(ok.Violations);
        Assert.Equal(before, ok.NewestCommitInCopy);
        Assert.Equal(before, ok.NewestSourceCommitBeforeTarget);
        Assert.Equal(3, ok.RowsInCopy);
        Assert.Equal(2, ok.SourceRowsAfterTarget);

        var missing = RecoveryPoint.Compare(source, Tables(("(1)", "h1", before), ("(3)", "h3old", before)), target);
        Assert.Contains("public.t (2): committed at", Assert.Single(missing.Violations), StringComparison.Ordinal);

        var late = RecoveryPoint.Compare(source, Tables(("(1)", "h1", before), ("(2)", "h2", before), ("(4)", "h4", after)), target);
        Assert.Contains("after the target", Assert.Single(late.Violations), StringComparison.Ordinal);

        var changed = RecoveryPoint.Compare(source, Tables(("(1)", "h1", before), ("(2)", "other", before)), target);
        Assert.Contains("other content", Assert.Single(changed.Violations), StringComparison.Ordinal);

        // Row 2's transaction (xid 2) took its timestamp before the target but wrote its commit record after the one
        // recovery stopped before: PostgreSQL leaves it out, and so may the copy. Another xid does not excuse it.
        var reordered = RecoveryPoint.Compare(source, Tables(("(1)", "h1", before), ("(3)", "h3old", before)), target, new HashSet<long> { 2 });
        Assert.Empty(reordered.Violations);
        Assert.Equal(1, reordered.RowsCommittedAfterStopRecord);
        Assert.Single(RecoveryPoint.Compare(source, Tables(("(1)", "h1", before), ("(3)", "h3old", before)), target, new HashSet<long> { 9 }).Violations);
    }

    [Fact]
    public void Wal_commits_after_the_stop_record_are_read_in_wal_order_with_subtransactions()
    {
        const string Waldump = """
            rmgr: Transaction len (rec/tot):     34/    34, tx:        745, lsn: 0/0301F2D8, prev 0/0301F2A0, desc: COMMIT 2026-12-06 02:41:51.443773 UTC
            rmgr: Transaction len (rec/tot):     34/    34, tx:        750, lsn: 0/0301F300, prev 0/0301F2D8, desc: COMMIT 2026-12-06 02:41:51.443900 UTC
            rmgr: Transaction len (rec/tot):     34/    34, tx:        746, lsn: 0/0301F340, prev 0/0301F300, desc: ABORT 2026-12-06 02:41:51.443901 UTC
            rmgr: Transaction len (rec/tot):     46/    46, tx:        747, lsn: 0/0301F3D8, prev 0/0301F340, desc: COMMIT 2026-12-06 02:41:51.443850 UTC; subxacts: 748 749
            rmgr: Transaction len (rec/tot):    130/   130, tx:        751, lsn: 0/0301F408, prev 0/0301F3D8, desc: COMMIT 2026-12-06 02:41:51.444001 UTC; inval msgs: catcache 55
            """;
        Assert.Equal(new HashSet<long> { 747, 748, 749, 751 }, WalCommits.After(Waldump, 750));
        Assert.Empty(WalCommits.After(Waldump, 751));
        Assert.Empty(WalCommits.After(Waldump, 999));
    }

    [Fact]
    public void Journal_allows_the_last_acknowledged_state_or_one_in_flight_and_nothing_sent_after_the_cut()
    {
        var cut = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var journal = new WriteJournal();
        var early = Guid.NewGuid();
        var flight = Guid.NewGuid();
        var late = Guid.NewGuid();
        journal.Add(early, "APPLIED", cut.AddSeconds(-3), cut.AddSeconds(-2));
        journal.Add(early, "SCREENING", cut.AddSeconds(-2), cut.AddSeconds(-1));
        journal.Add(early, "INTERVIEW", cut.AddSeconds(1), cut.AddSeconds(2));
        journal.Add(flight, "APPLIED", cut.AddSeconds(-1), cut.AddSeconds(1));
        journal.Add(late, "APPLIED", cut.AddSeconds(1), cut.AddSeconds(2));

        var allowed = journal.AllowedAt(cut, cut);
        Assert.Equal(["SCREENING"], allowed[early]);
        Assert.Equal(new HashSet<string?> { null, "APPLIED" }, allowed[flight]);
        Assert.Equal([null], allowed[late]);

        // A cut known only to lie in a window: a write acknowledged inside it may or may not be in the copy.
        var window = journal.AllowedAt(cut.AddSeconds(-1.5), cut);
        Assert.Equal(new HashSet<string?> { "APPLIED", "SCREENING" }, window[early]);
        Assert.Throws<ArgumentOutOfRangeException>(() => journal.AllowedAt(cut, cut.AddSeconds(-1)));
    }

    private static IReadOnlyDictionary<string, Dictionary<string, RowVersion>> Tables(params (string Key, string Hash, DateTime Committed)[] rows) =>
        new Dictionary<string, Dictionary<string, RowVersion>> { ["public.t"] = rows.ToDictionary(r => r.Key, r => new RowVersion(r.Hash, r.Committed, long.Parse(r.Key.Trim('(', ')'), System.Globalization.CultureInfo.InvariantCulture))) };

    private static async Task CopyDatabaseAsync(PostgresServer pg, string source, string copy)
    {
        await pg.ExecuteAsync($"DROP DATABASE \"{copy}\"");
        await pg.ExecuteAsync($"CREATE DATABASE \"{copy}\" TEMPLATE \"{source}\"");
        await pg.ExecuteAsync($"GRANT CONNECT, TEMPORARY ON DATABASE \"{copy}\" TO {PostgresServer.AppRole}");
    }

    private static async Task<IReadOnlyList<TableChecksum>> ChecksumsAsync(PostgresServer pg, string database)
    {
        await using var conn = new NpgsqlConnection(pg.ForDatabase(database) + ";Pooling=false");
        await conn.OpenAsync();
        await DatabaseFingerprint.PrepareSessionAsync(conn, CancellationToken.None);
        return await DatabaseFingerprint.ChecksumsAsync(conn, CancellationToken.None);
    }

    private static async Task<SchemaFingerprint> SchemaAsync(PostgresServer pg, string database)
    {
        await using var conn = new NpgsqlConnection(pg.ForDatabase(database) + ";Pooling=false");
        await conn.OpenAsync();
        return await DatabaseFingerprint.SchemaAsync(conn, CancellationToken.None);
    }
}
