using Npgsql;

namespace Hardening.Drills.Faults;

/// <summary>
/// What the database must show after the faults (read as the superuser, directly on PostgreSQL, so row-level
/// security hides nothing): no half-applied transition (every candidate's status is the end of its audit chain, each
/// audit row has its outbox event and each candidate its creation event), every acknowledged write present in its
/// tenant, every acknowledged résumé job run to completion exactly once, and the outbox drained.
/// </summary>
internal static class FaultDatabaseChecks
{
    /// <summary>Waits until the outbox is published and the résumé queue is empty (or the timeout passes).</summary>
    public static async Task<bool> WaitDrainedAsync(string connectionString, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var pending = await ScalarAsync<long>(connectionString, "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) + (SELECT count(*) FROM resume_jobs WHERE state = 'queued')", ct);
            if (pending == 0)
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(250, ct);
        }
    }

    /// <summary>The outbox of every tenant, in id order: (event type, data), the oracle of the SSE check.</summary>
    public static async Task<Dictionary<Guid, IReadOnlyList<(string Type, string Data)>>> OutboxAsync(string connectionString, CancellationToken ct)
    {
        var result = new Dictionary<Guid, List<(string, string)>>();
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT tenant_id, event_type, data FROM outbox ORDER BY tenant_id, id", conn);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var tenant = r.GetGuid(0);
            if (!result.TryGetValue(tenant, out var list))
            {
                result[tenant] = list = [];
            }

            list.Add((r.GetString(1), r.GetString(2)));
        }

        return result.ToDictionary(p => p.Key, p => (IReadOnlyList<(string, string)>)p.Value);
    }

    /// <summary>Runs every check; returns the violations and adds the counts checked to <paramref name="figures"/>.</summary>
    public static async Task<List<string>> CheckAsync(string connectionString, Acknowledged acks, IDictionary<string, object?> figures, CancellationToken ct)
    {
        var violations = new List<string>();
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);

        // Half-applied transitions: the audit chain of each candidate starts at APPLIED, each step starts where the
        // last one ended, it ends at the candidate's status, and it is in the candidate's tenant.
        violations.AddRange(await ListAsync(conn, """
            WITH a AS (
                SELECT tenant_id, entity_id, from_state, to_state, id,
                       lag(to_state) OVER (PARTITION BY entity_id ORDER BY id) AS prev_to,
                       row_number() OVER (PARTITION BY entity_id ORDER BY id DESC) AS rn
                FROM candidates_audit)
            SELECT 'candidate ' || c.id || ': status ' || c.status || ' but its audit history ends at ' || coalesce(a.to_state, 'nothing (APPLIED)')
            FROM candidates c LEFT JOIN a ON a.entity_id = c.id::text AND a.rn = 1
            WHERE coalesce(a.to_state, 'APPLIED') <> c.status
            UNION ALL
            SELECT 'candidate ' || a.entity_id || ': audit row ' || a.id || ' goes ' || a.from_state || ' -> ' || a.to_state || ' after ' || coalesce(a.prev_to, 'nothing')
            FROM a WHERE a.from_state <> coalesce(a.prev_to, 'APPLIED')
            UNION ALL
            SELECT 'candidate ' || a.entity_id || ': audit row ' || a.id || ' is in tenant ' || a.tenant_id || ', the candidate in ' || coalesce(c.tenant_id::text, 'none')
            FROM a LEFT JOIN candidates c ON c.id::text = a.entity_id WHERE c.tenant_id IS DISTINCT FROM a.tenant_id
            """, ct));

        // Each transition committed with its event and each creation with its event (one transaction each).
        violations.AddRange(await ListAsync(conn, """
            WITH audit AS (SELECT entity_id, from_state, to_state, count(*) AS n FROM candidates_audit GROUP BY 1, 2, 3),
                 events AS (SELECT data::jsonb ->> 'candidateId' AS entity_id, data::jsonb ->> 'from' AS from_state, data::jsonb ->> 'to' AS to_state, count(*) AS n
                            FROM outbox WHERE event_type = 'candidate.transitioned' GROUP BY 1, 2, 3)
            SELECT 'candidate ' || coalesce(audit.entity_id, events.entity_id) || ': ' || coalesce(audit.from_state, events.from_state) || ' -> '
                   || coalesce(audit.to_state, events.to_state) || ' has ' || coalesce(audit.n, 0) || ' audit row(s) and ' || coalesce(events.n, 0) || ' outbox event(s)'
            FROM audit FULL JOIN events USING (entity_id, from_state, to_state)
            WHERE coalesce(audit.n, 0) <> coalesce(events.n, 0)
            UNION ALL
            SELECT 'candidate ' || c.id || ': ' || coalesce(created.n, 0) || ' candidate.created event(s), expected 1'
            FROM candidates c LEFT JOIN (
                SELECT tenant_id, data::jsonb ->> 'id' AS id, count(*) AS n FROM outbox WHERE event_type = 'candidate.created' GROUP BY 1, 2
            ) created ON created.tenant_id = c.tenant_id AND created.id = c.id::text
            WHERE coalesce(created.n, 0) <> 1
            """, ct));

        // Acknowledged writes.
        var candidates = acks.Candidates.ToArray();
        var present = await PairsAsync(conn, "SELECT id, tenant_id FROM candidates WHERE id = ANY($1)", candidates.Select(c => c.Candidate).ToArray(), ct);
        foreach (var (tenant, id) in candidates)
        {
            if (!present.TryGetValue(id, out var t))
            {
                violations.Add($"acknowledged candidate {id} (201) is not in the database");
            }
            else if (t != tenant)
            {
                violations.Add($"acknowledged candidate {id} is in tenant {t}, created in {tenant}");
            }
        }

        var transitions = acks.Transitions.ToArray();
        var audited = new HashSet<(string, string, string)>();
        await using (var cmd = new NpgsqlCommand("SELECT entity_id, from_state, to_state FROM candidates_audit WHERE entity_id = ANY($1)", conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = transitions.Select(t => t.Candidate.ToString()).Distinct().ToArray() });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                audited.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
            }
        }

        foreach (var (_, id, from, to) in transitions)
        {
            if (!audited.Contains((id.ToString(), from, to)))
            {
                violations.Add($"acknowledged transition {from} -> {to} of candidate {id} (200) is not in the audit history");
            }
        }

        // Résumé jobs: every acknowledged one is there, done, and has exactly one completion event.
        var jobs = acks.Resumes.ToArray();
        var states = new Dictionary<Guid, (string State, int Attempts, long Completions)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT j.id, j.state, j.attempts, coalesce(parsed.n, 0)
            FROM resume_jobs j LEFT JOIN (
                SELECT data::jsonb ->> 'id' AS id, count(*) AS n FROM outbox WHERE event_type = 'resume.parsed' GROUP BY 1
            ) parsed ON parsed.id = j.id::text
            WHERE j.id = ANY($1)
            """, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = jobs.Select(j => j.Job).ToArray() });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                states[r.GetGuid(0)] = (r.GetString(1), r.GetInt32(2), r.GetInt64(3));
            }
        }

        foreach (var (_, job, _) in jobs)
        {
            if (!states.TryGetValue(job, out var s))
            {
                violations.Add($"acknowledged résumé job {job} (202) is not in the database: lost");
            }
            else if (s.State != "done")
            {
                violations.Add($"acknowledged résumé job {job} is '{s.State}' after the drain (attempts {s.Attempts}), not done");
            }
            else if (s.Completions != 1)
            {
                violations.Add($"résumé job {job} ran to completion {s.Completions} times (resume.parsed events); expected once");
            }
        }

        var allJobs = await ListAsync(conn, """
            SELECT 'résumé job ' || j.id || ' (' || j.state || ') has ' || coalesce(parsed.n, 0) || ' completion events' FROM resume_jobs j
            LEFT JOIN (
                SELECT data::jsonb ->> 'id' AS id, count(*) AS n FROM outbox WHERE event_type = 'resume.parsed' GROUP BY 1
            ) parsed ON parsed.id = j.id::text
            WHERE coalesce(parsed.n, 0) <> CASE WHEN j.state = 'done' THEN 1 ELSE 0 END
            """, ct);
        violations.AddRange(allJobs);
        var unpublished = await ScalarAsync<long>(connectionString, "SELECT count(*) FROM outbox WHERE published_at IS NULL", ct);
        if (unpublished > 0)
        {
            violations.Add($"{unpublished} outbox event(s) still unpublished after the drain");
        }

        figures["candidatesAcknowledged"] = candidates.Length;
        figures["transitionsAcknowledged"] = transitions.Length;
        figures["resumesAcknowledged"] = jobs.Length;
        figures["candidatesInDatabase"] = await ScalarAsync<long>(connectionString, "SELECT count(*) FROM candidates", ct);
        figures["auditRowsInDatabase"] = await ScalarAsync<long>(connectionString, "SELECT count(*) FROM candidates_audit", ct);
        figures["resumeJobsInDatabase"] = await ScalarAsync<long>(connectionString, "SELECT count(*) FROM resume_jobs", ct);
        figures["outboxEvents"] = await ScalarAsync<long>(connectionString, "SELECT count(*) FROM outbox", ct);
        return violations;
    }

    private static async Task<List<string>> ListAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        var list = new List<string>();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(r.GetString(0));
        }

        return list;
    }

    private static async Task<Dictionary<Guid, Guid>> PairsAsync(NpgsqlConnection conn, string sql, Guid[] ids, CancellationToken ct)
    {
        var d = new Dictionary<Guid, Guid>();
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            d[r.GetGuid(0)] = r.GetGuid(1);
        }

        return d;
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
