using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Hardening.Rls;
using Hardening.Testing;
using Npgsql;

namespace Hardening.Drills.Backup;

/// <summary>
/// <c>drill backup</c>: PostgreSQL 15 with WAL archiving, the sample ATS migrated and written to over HTTP by several
/// writers of several tenants; under that load (1) a base backup, (2) a target time T, (3) <c>pg_dump -Fc</c> of a snapshot
/// exported from a REPEATABLE READ transaction in which every table is counted and checksummed, plus the roles
/// (<c>pg_dumpall --roles-only</c>). The dump is restored into a new cluster and compared (rows, checksums, RLS,
/// policies, triggers, functions, grants, roles, sequences, the RLS linter, the write journal at the snapshot); the base
/// backup is recovered from the archive to T and compared row by row with the source by commit timestamp.
/// </summary>
internal sealed partial class BackupDrill : IDrill
{
    public string Name => "backup";

    public async Task<DrillResult> RunAsync(DrillArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var quick = arguments.Quick;
        var writerCount = arguments.Int("writers", quick ? 4 : 16, 1, 256);
        var tenantCount = arguments.Int("tenants", quick ? 2 : 4, 1, 64);
        var seconds = arguments.Int("seconds", quick ? 2 : 30, 1, 3600);
        var archiveTimeout = arguments.Int("archive-timeout", quick ? 1 : 5, 1, 3600);
        var figures = new Dictionary<string, object?>(StringComparer.Ordinal);
        var violations = new List<string>();
        try
        {
            await RunAsync(writerCount, tenantCount, seconds, archiveTimeout, figures, violations, output, cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or NpgsqlException or TimeoutException or IOException or HttpRequestException)
        {
            // A backup or restore step that fails is a failed drill, with what was measured until then.
            violations.Add($"the drill stopped: {e.Message}");
        }

        return new DrillResult(Name, figures, violations);
    }

    private async Task RunAsync(int writerCount, int tenantCount, int seconds, int archiveTimeout, Dictionary<string, object?> figures, List<string> violations, TextWriter output, CancellationToken cancellationToken)
    {
        void Figure(string name, object? value)
        {
            figures[name] = value;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {value switch { double d => d.ToString("0.###", CultureInfo.InvariantCulture), System.Collections.IDictionary => System.Text.Json.JsonSerializer.Serialize(value), _ => value }}"));
        }

        void Violations(string stage, IEnumerable<string> found)
        {
            foreach (var v in found) violations.Add($"{stage}: {v}");
        }

        Figure("writers", writerCount);
        Figure("tenants", tenantCount);
        Figure("load_seconds_around_target", seconds);
        Figure("archive_timeout_s", archiveTimeout);

        // Durable enough to be a fair backup source (full-page writes, synchronous commit); fsync stays off as everywhere
        // in the harness: this drill does not crash the server (drill faults does).
        await using var source = await PostgresServer.StartAsync(new Dictionary<string, string>
        {
            ["wal_level"] = "replica",
            ["archive_mode"] = "on",
            // Runs in the data directory; the archive is beside it, inside the cluster directory (removed with it).
            ["archive_command"] = "mkdir -p ../archive && test ! -f ../archive/%f && cp %p ../archive/%f",
            ["archive_timeout"] = archiveTimeout.ToString(CultureInfo.InvariantCulture),
            ["track_commit_timestamp"] = "on",
            ["full_page_writes"] = "on",
            ["synchronous_commit"] = "on",
        });
        var archive = Path.Combine(source.Directory!, "archive");
        var baseBackup = Path.Combine(source.Directory!, "base");
        var dumpFile = Path.Combine(source.Directory!, "ats.dump");
        var rolesFile = Path.Combine(source.Directory!, "roles.sql");
        await using var redis = await RedisServer.StartAsync();
        await using var load = await SampleWriters.StartAsync(source, redis, tenantCount, cancellationToken);
        var db = load.Database;
        await using var sourceConnection = new NpgsqlConnection(source.ForDatabase(db) + ";Pooling=false");
        await sourceConnection.OpenAsync(cancellationToken);
        output.WriteLine($"backup: PostgreSQL 15 on port {source.Port} (archive {archive}), sample database {db}, {tenantCount} tenants, {writerCount} writers over HTTP");
        load.StartWriters(writerCount);
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, seconds / 2.0)), cancellationToken);

        // ---- base backup under load -------------------------------------------------------------------------------------
        var clock = Stopwatch.StartNew();
        (await PostgresServer.RunAsServerUserAsync(ServerBinaries.Postgres("pg_basebackup"),
            ["-h", source.Host, "-p", Port(source), "-U", "postgres", "-D", baseBackup, "-X", "stream", "-c", "fast"], TimeSpan.FromMinutes(10))).EnsureSuccess("pg_basebackup");
        Figure("basebackup_ms", clock.Elapsed.TotalMilliseconds);
        Figure("basebackup_bytes", SizeOf(baseBackup));
        var verify = await PostgresServer.RunAsServerUserAsync(ServerBinaries.Postgres("pg_verifybackup"), [baseBackup], TimeSpan.FromMinutes(10));
        if (verify.ExitCode != 0) violations.Add($"pg_verifybackup: the base backup does not verify: {verify.StdErr.Trim()}");
        Figure("basebackup_verified", verify.ExitCode == 0);

        // ---- the target time T, mid-load ------------------------------------------------------------------------------
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
        var target = await ScalarAsync<DateTime>(sourceConnection, "SELECT date_trunc('milliseconds', clock_timestamp())", cancellationToken);
        var acknowledgedAtTarget = load.Journal.Acknowledged;
        Figure("target_time", target.ToString("O", CultureInfo.InvariantCulture));

        // ---- pg_dump of an exported snapshot, checksummed in the same snapshot ---------------------------------------------
        (await ProcessRunner.RunAsync(ServerBinaries.Postgres("pg_dumpall"), ["-h", source.Host, "-p", Port(source), "-U", "postgres", "--roles-only", "-f", rolesFile])).EnsureSuccess("pg_dumpall --roles-only");
        IReadOnlyList<TableChecksum> snapshotChecksums;
        DateTime snapshotStart, snapshotTime;
        await using (var snapshot = new NpgsqlConnection(source.ForDatabase(db) + ";Pooling=false"))
        {
            await snapshot.OpenAsync(cancellationToken);
            await DatabaseFingerprint.PrepareSessionAsync(snapshot, cancellationToken);
            await using var tx = await snapshot.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            string snapshotId;
            // The snapshot is taken when this statement starts: after statement_timestamp(), before clock_timestamp().
            await using (var export = new NpgsqlCommand("SELECT pg_export_snapshot(), statement_timestamp(), clock_timestamp()", snapshot, tx))
            await using (var reader = await export.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                snapshotId = reader.GetString(0);
                snapshotStart = reader.GetFieldValue<DateTime>(1);
                snapshotTime = reader.GetFieldValue<DateTime>(2);
            }

            clock.Restart();
            snapshotChecksums = await DatabaseFingerprint.ChecksumsAsync(snapshot, cancellationToken);
            Figure("snapshot_checksum_ms", clock.Elapsed.TotalMilliseconds);
            Figure("snapshot_time", snapshotTime.ToString("O", CultureInfo.InvariantCulture));
            Figure("snapshot_newest_commit", (await NewestCommitAsync(snapshot, cancellationToken))?.ToString("O", CultureInfo.InvariantCulture));
            clock.Restart();
            (await ProcessRunner.RunAsync(ServerBinaries.Postgres("pg_dump"),
                ["-h", source.Host, "-p", Port(source), "-U", "postgres", "-d", db, "-Fc", $"--snapshot={snapshotId}", "-f", dumpFile], TimeSpan.FromMinutes(30))).EnsureSuccess("pg_dump");
            Figure("dump_ms", clock.Elapsed.TotalMilliseconds);
            await tx.CommitAsync(cancellationToken);
        }

        Figure("dump_bytes", new FileInfo(dumpFile).Length);
        Figure("snapshot_rows", snapshotChecksums.Sum(t => t.Rows));
        Figure("snapshot_rows_by_table", snapshotChecksums.ToDictionary(t => t.Table, t => t.Rows));

        // ---- more writes after T, then the load stops and the last WAL segment is archived ------------------------------
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, seconds / 2.0)), cancellationToken);
        await load.StopAsync();
        Figure("writes_acknowledged", load.Journal.Acknowledged);
        Figure("writes_acknowledged_after_target", load.Journal.Acknowledged - acknowledgedAtTarget);
        Figure("candidates_created", load.Journal.Candidates);
        Figure("write_errors_by_status", load.Errors.ToDictionary(e => e.Key.ToString(CultureInfo.InvariantCulture), e => e.Value));
        Figure("database_bytes", await ScalarAsync<long>(sourceConnection, "SELECT pg_database_size(current_database())", cancellationToken));
        var lastSegment = await ScalarAsync<string>(sourceConnection, "SELECT file_name FROM pg_walfile_name_offset(pg_switch_wal())", cancellationToken);
        var archived = await WaitForFileAsync(Path.Combine(archive, lastSegment), TimeSpan.FromMinutes(2), cancellationToken);
        if (!archived) violations.Add($"archive: WAL segment {lastSegment} was not archived within 2 minutes");
        var archiveFiles = Directory.Exists(archive) ? Directory.GetFiles(archive) : [];
        Figure("archive_wal_files", archiveFiles.Length);
        Figure("archive_bytes", archiveFiles.Sum(f => new FileInfo(f).Length));
        if (archiveFiles.Length == 0) violations.Add("archive: no WAL file was archived");

        var sourceSchema = await DatabaseFingerprint.SchemaAsync(sourceConnection, cancellationToken);
        Violations("source", NonVacuous(sourceSchema));
        var linter = new RlsLinter(new RlsLintOptions { AppRole = "ats_app", Schemas = { "public" } });
        var sourceLint = await linter.LintAsync(sourceConnection, cancellationToken);
        Figure("lint_source_errors", sourceLint.Errors);
        Figure("lint_source_warnings", sourceLint.Warnings);
        var sourceRows = await RecoveryPoint.RowsAsync(sourceConnection, cancellationToken);

        // ---- restore the dump into a new cluster: roles first (cluster-wide), then the database -----------------------------
        output.WriteLine("backup: restoring the dump into a new cluster");
        await using (var restoreCluster = await PostgresServer.StartAsync())
        {
            clock.Restart();
            var roles = await ProcessRunner.RunAsync(ServerBinaries.Postgres("psql"), ["-X", "-q", "-h", restoreCluster.Host, "-p", Port(restoreCluster), "-U", "postgres", "-d", "postgres", "-f", rolesFile]);
            // The script creates every role, the bootstrap superuser and any role the new cluster already has included; for
            // those CREATE fails ("already exists") and the ALTER ROLE after it still sets attributes and password.
            Violations("roles", roles.StdErr.Split('\n').Where(l => l.Contains("ERROR:", StringComparison.Ordinal) && !l.Contains("already exists", StringComparison.Ordinal)));
            Figure("restore_roles_ms", clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            var restore = await ProcessRunner.RunAsync(ServerBinaries.Postgres("pg_restore"),
                ["-h", restoreCluster.Host, "-p", Port(restoreCluster), "-U", "postgres", "-d", "postgres", "--create", "--exit-on-error", dumpFile], TimeSpan.FromMinutes(30));
            Figure("restore_ms", clock.Elapsed.TotalMilliseconds);
            if (restore.ExitCode != 0)
            {
                violations.Add($"pg_restore failed ({restore.ExitCode}): {restore.StdErr.Trim()}");
            }
            else
            {
                await using var restored = new NpgsqlConnection(restoreCluster.ForDatabase(db) + ";Pooling=false");
                await restored.OpenAsync(cancellationToken);
                Figure("restored_database_bytes", await ScalarAsync<long>(restored, "SELECT pg_database_size(current_database())", cancellationToken));
                await DatabaseFingerprint.PrepareSessionAsync(restored, cancellationToken);
                var restoredChecksums = await DatabaseFingerprint.ChecksumsAsync(restored, cancellationToken);
                Violations("restore", DatabaseFingerprint.Compare(snapshotChecksums, restoredChecksums));
                Figure("restored_rows", restoredChecksums.Sum(t => t.Rows));
                var restoredSchema = await DatabaseFingerprint.SchemaAsync(restored, cancellationToken);
                Violations("restore", DatabaseFingerprint.Compare(sourceSchema, restoredSchema));
                Figure("restored_policies", restoredSchema.Count("policy"));
                Figure("restored_triggers", restoredSchema.Count("trigger"));
                Figure("restored_grants", restoredSchema.Count("grant"));
                Figure("restored_roles", restoredSchema.Count("role"));
                Violations("restore", await DatabaseFingerprint.SequencesBehindAsync(restored, cancellationToken));
                var restoredLint = await linter.LintAsync(restored, cancellationToken);
                Figure("lint_restored_errors", restoredLint.Errors);
                Figure("lint_restored_warnings", restoredLint.Warnings);
                Violations("lint", LintDifferences(sourceLint, restoredLint));
                var (journal, present) = await RecoveryPoint.CheckJournalAsync(restored, load.Journal, snapshotStart, snapshotTime, cancellationToken);
                Violations("restore journal", journal);
                Figure("restored_journaled_candidates", present);
            }
        }

        // ---- point-in-time restore of the base backup to T --------------------------------------------------------------
        output.WriteLine("backup: recovering the base backup to the target time from the archive");
        clock.Restart();
        var targetText = target.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";
        await using (var recovered = await PostgresServer.StartFromAsync(
            async data =>
            {
                (await PostgresServer.RunAsServerUserAsync("/bin/cp", ["-a", baseBackup, data])).EnsureSuccess("copy the base backup");
                (await PostgresServer.RunAsServerUserAsync("/usr/bin/touch", [Path.Combine(data, "recovery.signal")])).EnsureSuccess("recovery.signal");
            },
            new Dictionary<string, string>
            {
                ["restore_command"] = $"cp {archive}/%f %p",
                ["recovery_target_time"] = targetText,
                ["recovery_target_action"] = "promote",
                ["archive_mode"] = "off",
                ["track_commit_timestamp"] = "on",
            }))
        {
            var promoted = await WaitForPromotionAsync(recovered, TimeSpan.FromMinutes(10), cancellationToken);
            Figure("pitr_recovery_ms", clock.Elapsed.TotalMilliseconds);
            if (!promoted)
            {
                violations.Add("pitr: the recovered server did not finish recovery and promote: " + Tail(recovered.LogFile));
            }
            else
            {
                await using var copy = new NpgsqlConnection(recovered.ForDatabase(db) + ";Pooling=false");
                await copy.OpenAsync(cancellationToken);
                var copyRows = await RecoveryPoint.RowsAsync(copy, cancellationToken);
                var log = File.Exists(recovered.LogFile) ? await File.ReadAllTextAsync(recovered.LogFile!, cancellationToken) : "";
                var stop = StoppedBefore().Match(log);
                var afterStop = stop.Success
                    ? await WalCommits.AfterAsync(archive, long.Parse(stop.Groups[1].Value, CultureInfo.InvariantCulture), cancellationToken)
                    : new HashSet<long>();
                // Writes went on after T, so the WAL holds commits after the stop record; none found means the WAL was not read.
                if (!stop.Success) violations.Add("pitr: the copy's log does not say where recovery stopped (no commit after the target was replayed?)");
                else if (afterStop.Count == 0) violations.Add($"pitr: pg_waldump found no commit after transaction {stop.Groups[1].Value}, where recovery stopped");
                Figure("pitr_wal_commits_after_stop_record", afterStop.Count);
                var point = RecoveryPoint.Compare(sourceRows, copyRows, target, afterStop);
                Figure("pitr_rows_committed_before_target_after_stop_record", point.RowsCommittedAfterStopRecord);
                Violations("pitr", point.Violations);
                Figure("pitr_rows_committed_before_target", point.RowsCommittedBeforeTarget);
                Figure("pitr_rows_in_copy", point.RowsInCopy);
                Figure("pitr_source_rows_committed_after_target", point.SourceRowsAfterTarget);
                Figure("pitr_newest_commit_in_copy", point.NewestCommitInCopy?.ToString("O", CultureInfo.InvariantCulture));
                Figure("pitr_gap_ms", point.NewestCommitInCopy is { } newest ? (target - newest).TotalMilliseconds : null);
                Figure("pitr_newest_source_row_commit_before_target", point.NewestSourceCommitBeforeTarget?.ToString("O", CultureInfo.InvariantCulture));
                if (point.SourceRowsAfterTarget == 0) violations.Add("pitr: no row was written after the target time, so the drill did not test that recovery stops at it");
                if (LastTransaction().Match(log) is { Success: true } last) Figure("pitr_last_replayed_transaction", last.Groups[1].Value);
                if (stop.Success) Figure("pitr_stopped_before_commit_at", stop.Groups[2].Value);
                var (journal, present) = await RecoveryPoint.CheckJournalAsync(copy, load.Journal, target, target, cancellationToken);
                Violations("pitr journal", journal);
                Figure("pitr_journaled_candidates", present);
                Violations("pitr schema", DatabaseFingerprint.Compare(sourceSchema, await DatabaseFingerprint.SchemaAsync(copy, cancellationToken)));
            }
        }

        if (load.Journal.Acknowledged == 0) violations.Add("load: no write was acknowledged");
    }

    /// <summary>What the source must have for the comparison to mean something.</summary>
    internal static IEnumerable<string> NonVacuous(SchemaFingerprint schema)
    {
        if (schema.Count("policy") == 0) yield return "the source has no RLS policy";
        if (schema.Count("trigger") == 0) yield return "the source has no trigger";
        if (!schema.Entries.ContainsKey("role ats_app")) yield return "the source has no ats_app role";
        if (!schema.Entries.Values.Contains("enable=t force=t")) yield return "no table of the source has row-level security enabled and forced";
    }

    /// <summary>Linter findings of the restored copy that the source does not have.</summary>
    internal static IEnumerable<string> LintDifferences(RlsLintReport source, RlsLintReport restored)
    {
        var known = source.Findings.Select(f => (f.Rule, f.Object, f.Level)).ToHashSet();
        return restored.Findings.Where(f => !known.Contains((f.Rule, f.Object, f.Level)))
            .Select(f => $"the restored copy has a linter {f.Level} the source has not: {f.Rule} on {f.Object}: {f.Detail}");
    }

    private static string Port(PostgresServer server) => server.Port.ToString(CultureInfo.InvariantCulture);

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        return (T)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<DateTime?> NewestCommitAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        DateTime? newest = null;
        foreach (var (table, _) in await DatabaseFingerprint.TablesAsync(connection, cancellationToken))
        {
            await using var cmd = new NpgsqlCommand($"SELECT max(pg_xact_commit_timestamp(xmin)) FROM {table}", connection);
            if (await cmd.ExecuteScalarAsync(cancellationToken) is DateTime t && (newest is null || t > newest)) newest = t;
        }

        return newest;
    }

    private static async Task<bool> WaitForPromotionAsync(PostgresServer server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                await using var conn = new NpgsqlConnection(server.SuperuserConnectionString);
                await conn.OpenAsync(cancellationToken);
                if (!await ScalarAsync<bool>(conn, "SELECT pg_is_in_recovery()", cancellationToken)) return true;
            }
            catch (NpgsqlException)
            {
                // Not accepting connections yet, or stopped (e.g. "recovery ended before configured recovery target was reached").
                if (server.LogFile is { } log && File.Exists(log) && (await File.ReadAllTextAsync(log, cancellationToken)).Contains("FATAL", StringComparison.Ordinal)) return false;
            }

            await Task.Delay(100, cancellationToken);
        }

        return false;
    }

    private static async Task<bool> WaitForFileAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (clock.Elapsed > timeout) return false;
            await Task.Delay(100, cancellationToken);
        }

        return true;
    }

    private static long SizeOf(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static string Tail(string? file)
    {
        if (file is null || !File.Exists(file)) return "(no server log)";
        var lines = File.ReadAllLines(file);
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 15)));
    }

    [GeneratedRegex(@"last completed transaction was at log time ([0-9:. +-]+)")]
    private static partial Regex LastTransaction();

    [GeneratedRegex(@"recovery stopping before commit of transaction (\d+), time ([0-9:. +-]+)")]
    private static partial Regex StoppedBefore();
}
