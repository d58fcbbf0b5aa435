using Npgsql;

namespace Hardening.Drills.Backup;

/// <summary>One stored row version: its key, a hash of its content, and when its transaction committed (<c>track_commit_timestamp</c>).</summary>
internal readonly record struct RowVersion(string Hash, DateTime? Committed);

/// <summary>
/// The recovery point of a point-in-time restore, from the rows themselves: the copy must hold exactly the commits up
/// to the target. Every row the source still holds whose transaction committed at or before the target must be in the
/// copy unchanged; no row in the copy may come from a transaction that committed after it.
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
            await using var cmd = new NpgsqlCommand($"SELECT {keyText}, md5(t::text), pg_xact_commit_timestamp(t.xmin) FROM {table} t", connection);
            var rows = new Dictionary<string, RowVersion>(StringComparer.Ordinal);
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows[reader.GetString(0)] = new RowVersion(reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTime>(2));
                }
            }

            result[table] = rows;
        }

        return result;
    }

    /// <summary>What the comparison found: violations (each naming table and key) and the figures.</summary>
    internal sealed record Result(IReadOnlyList<string> Violations, long RowsCommittedBeforeTarget, long RowsInCopy, long SourceRowsAfterTarget, DateTime? NewestCommitInCopy, DateTime? NewestSourceCommitBeforeTarget);

    /// <summary>Compares the source (after the load, holding everything) with the copy restored to <paramref name="target"/>.</summary>
    public static Result Compare(IReadOnlyDictionary<string, Dictionary<string, RowVersion>> source, IReadOnlyDictionary<string, Dictionary<string, RowVersion>> copy, DateTime target, int maxListed = 20)
    {
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
                if (!copied.TryGetValue(key, out var mine)) Violation($"{table} {key}: committed at {row.Committed:O}, before the target, but missing from the copy");
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
        return new Result(violations, before, inCopy, after, newestCopy, newestSourceBefore);
    }

    /// <summary>
    /// Checks the candidates of the copy against the client's journal at <paramref name="cut"/>: a candidate is in the state
    /// of its last write acknowledged before the cut (absent if none), or of a write in flight across it; never in the
    /// state of a write sent after it. Returns violations and how many journaled candidates were present.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Violations, int Present)> CheckJournalAsync(NpgsqlConnection connection, WriteJournal journal, DateTime cut, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<Guid, string>();
        await using (var cmd = new NpgsqlCommand("SELECT id, status FROM public.candidates", connection))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) stored[reader.GetGuid(0)] = reader.GetString(1);
        }

        var violations = new List<string>();
        var present = 0;
        foreach (var (candidate, allowed) in journal.AllowedAt(cut))
        {
            var state = stored.GetValueOrDefault(candidate);
            if (state is not null) present++;
            if (!allowed.Contains(state) && violations.Count < 20)
            {
                violations.Add($"candidate {candidate} is {state ?? "absent"} in the copy, but the journal at {cut:O} allows only {string.Join(" or ", allowed.Select(s => s ?? "absent"))}");
            }
        }

        return (violations, present);
    }
}
