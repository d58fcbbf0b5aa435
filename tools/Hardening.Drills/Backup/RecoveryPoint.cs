using System.Text.RegularExpressions;
using Npgsql;

namespace Hardening.Drills.Backup;

/// <summary>One stored row version: a hash of its content, when its transaction committed (<c>track_commit_timestamp</c>) and that transaction's id.</summary>
internal readonly record struct RowVersion(string Hash, DateTime? Committed, long Xmin = 0);

/// <summary>
/// The recovery point of a point-in-time restore, from the rows themselves: the copy must hold exactly the commits up
/// to the target. Every row the source still holds whose transaction committed at or before the target must be in the
/// copy unchanged; no row in the copy may come from a transaction that committed after it. One exception is PostgreSQL's
/// own: recovery stops at the first commit record in WAL order whose time is after the target, and a commit takes its
/// timestamp a moment before it writes its record, so a transaction stamped just before the target can follow the stop
/// record in the WAL. Such transactions (read from the WAL with <c>pg_waldump</c>) may be missing, and are counted.
/// </summary>
internal static class RecoveryPoint
{
    /// <summary>Every row version of every user table: key (primary key as text) → content hash and commit time.</summary>
    public static async Task<IReadOnlyDictionary<string, Dictionary<string, RowVersion>>> RowsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await DatabaseFingerprint.PrepareSessionAsync(connection, cancellationToken);
        var result = new Dictionary<string, Dictionary<string, RowVersion>>(StringComparer.Ordinal);
        foreach (var (table, key) in await DatabaseFingerprint.TablesAsync(connection, cancellationToken))
        {
            // Without a primary key a row is keyed by its content (and an ordinal among equal rows).
            var keyText = key.Length > 0 ? $"row({string.Join(", ", key.Select(k => "t." + k))})::text" : "md5(t::text) || '#' || row_number() OVER (PARTITION BY md5(t::text))";
            await using var cmd = new NpgsqlCommand($"SELECT {keyText}, md5(t::text), pg_xact_commit_timestamp(t.xmin), t.xmin::text::bigint FROM {table} t", connection);
            var rows = new Dictionary<string, RowVersion>(StringComparer.Ordinal);
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows[reader.GetString(0)] = new RowVersion(reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTime>(2), reader.GetInt64(3));
                }
            }

            result[table] = rows;
        }

        return result;
    }

    /// <summary>What the comparison found: violations (each naming table and key) and the figures.</summary>
    internal sealed record Result(IReadOnlyList<string> Violations, long RowsCommittedBeforeTarget, long RowsInCopy, long SourceRowsAfterTarget, DateTime? NewestCommitInCopy, DateTime? NewestSourceCommitBeforeTarget, long RowsCommittedAfterStopRecord);

    /// <summary>
    /// Compares the source (after the load, holding everything) with the copy restored to <paramref name="target"/>;
    /// <paramref name="committedAfterStop"/>: transactions whose commit record follows the one recovery stopped before.
    /// </summary>
    public static Result Compare(IReadOnlyDictionary<string, Dictionary<string, RowVersion>> source, IReadOnlyDictionary<string, Dictionary<string, RowVersion>> copy, DateTime target, IReadOnlySet<long>? committedAfterStop = null, int maxListed = 20)
    {
        long reordered = 0;
        var violations = new List<string>();
        long before = 0, inCopy = 0, after = 0;
        DateTime? newestCopy = null, newestSourceBefore = null;
        var listed = 0;
        void Violation(string text)
        {
            if (listed++ < maxListed) violations.Add(text);
        }

        foreach (var (table, rows) in source)
        {
            copy.TryGetValue(table, out var copied);
            if (copied is null) Violation($"table {table} is missing from the recovered copy");
            foreach (var (key, row) in rows)
            {
                if (row.Committed is { } c && c > target)
                {
                    after++;
                    continue;
                }

                before++;
                if (row.Committed is { } b && (newestSourceBefore is null || b > newestSourceBefore)) newestSourceBefore = b;
                if (copied is null) continue;
                if (!copied.TryGetValue(key, out var mine))
                {
                    if (committedAfterStop?.Contains(row.Xmin) == true) reordered++;
                    else Violation($"{table} {key}: committed at {row.Committed:O} (xid {row.Xmin}), before the target, but missing from the copy");
                }
                else if (mine.Hash != row.Hash) Violation($"{table} {key}: committed at {row.Committed:O}, before the target, but the copy holds other content (committed {mine.Committed:O})");
            }
        }

        foreach (var (table, rows) in copy)
        {
            foreach (var (key, row) in rows)
            {
                inCopy++;
                if (row.Committed is not { } c) continue;
                if (newestCopy is null || c > newestCopy) newestCopy = c;
                if (c > target) Violation($"{table} {key}: the copy holds a row committed at {c:O}, after the target {target:O}");
            }
        }

        if (listed > maxListed) violations.Add($"... and {listed - maxListed} more recovery-point violations");
        return new Result(violations, before, inCopy, after, newestCopy, newestSourceBefore, reordered);
    }

    /// <summary>
    /// Checks the candidates of the copy against the client's journal: the copy holds the commits up to a cut known to lie
    /// between <paramref name="from"/> and <paramref name="to"/>. A candidate is in the state of its last write acknowledged
    /// before <paramref name="from"/> (absent if none), or of a write in flight across the cut; never in the state of a
    /// write sent after <paramref name="to"/>. Returns violations and how many journaled candidates were present.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Violations, int Present)> CheckJournalAsync(NpgsqlConnection connection, WriteJournal journal, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<Guid, string>();
        await using (var cmd = new NpgsqlCommand("SELECT id, status FROM public.candidates", connection))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) stored[reader.GetGuid(0)] = reader.GetString(1);
        }

        var violations = new List<string>();
        var present = 0;
        foreach (var (candidate, allowed) in journal.AllowedAt(from, to))
        {
            var state = stored.GetValueOrDefault(candidate);
            if (state is not null) present++;
            if (!allowed.Contains(state) && violations.Count < 20)
            {
                violations.Add($"candidate {candidate} is {state ?? "absent"} in the copy, but the journal at {from:O}..{to:O} allows only {string.Join(" or ", allowed.Select(s => s ?? "absent"))}");
            }
        }

        return (violations, present);
    }
}

/// <summary>The commit records of a WAL archive, in WAL order, read with <c>pg_waldump</c>.</summary>
internal static partial class WalCommits
{
    /// <summary>
    /// The transaction ids (with their subtransactions) whose commit record follows that of <paramref name="stopXid"/>
    /// in the WAL of <paramref name="archive"/> (empty when it is not found).
    /// </summary>
    public static async Task<IReadOnlySet<long>> AfterAsync(string archive, long stopXid, CancellationToken cancellationToken)
    {
        var segments = Directory.GetFiles(archive).Select(Path.GetFileName).Where(f => f is { Length: 24 } && f.All(Uri.IsHexDigit)).Order(StringComparer.Ordinal).ToList();
        if (segments.Count == 0) return new HashSet<long>();
        var dump = await Hardening.Testing.ProcessRunner.RunAsync(Hardening.Testing.ServerBinaries.Postgres("pg_waldump"),
            ["-p", archive, "-r", "Transaction", segments[0]!, segments[^1]!], TimeSpan.FromMinutes(10));
        return After(dump.StdOut, stopXid);
    }

    /// <summary>Parses <c>pg_waldump -r Transaction</c> output: the xids committed after <paramref name="stopXid"/>'s commit record.</summary>
    internal static IReadOnlySet<long> After(string waldump, long stopXid)
    {
        var after = new HashSet<long>();
        var seen = false;
        foreach (Match m in Commit().Matches(waldump))
        {
            var xid = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (!seen)
            {
                seen = xid == stopXid;
                continue;
            }

            after.Add(xid);
            foreach (var sub in m.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)) after.Add(long.Parse(sub, System.Globalization.CultureInfo.InvariantCulture));
        }

        return after;
    }

    [GeneratedRegex(@"tx:\s+(\d+), lsn: [0-9A-F]+/[0-9A-F]+, prev [0-9A-F]+/[0-9A-F]+, desc: COMMIT [^;\n]*(?:; subxacts:((?: \d+)+))?")]
    private static partial Regex Commit();
}
