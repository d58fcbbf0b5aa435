using System.Collections.Concurrent;
using Npgsql;

namespace Hardening.Drills.Load;

/// <summary>A creation the API acknowledged (201/202): what was asked for, in which tenant, and the id it answered.</summary>
internal sealed record AcknowledgedCreate(Guid Tenant, Guid Id, string Name);

/// <summary>
/// What the clients were told during a drill, to be checked against the database afterwards: acknowledged creations,
/// acknowledged transitions per candidate (and candidates whose last transition's outcome is unknown), and every
/// (caller's tenant, candidate id) pair a list or read returned.
/// </summary>
internal sealed class WriteLedger
{
    private readonly ConcurrentDictionary<Guid, AcknowledgedCreate> _creates = new();
    private readonly ConcurrentDictionary<Guid, (int Count, string State)> _transitions = new();
    private readonly ConcurrentDictionary<Guid, byte> _uncertain = new();
    private readonly ConcurrentDictionary<(Guid Tenant, Guid Id), byte> _seen = new();
    private readonly ConcurrentQueue<string> _violations = new();

    public IReadOnlyCollection<AcknowledgedCreate> Creates => (IReadOnlyCollection<AcknowledgedCreate>)_creates.Values;

    public int SeenCount => _seen.Count;

    public int TransitionCount => _transitions.Values.Sum(t => t.Count);

    /// <summary>Records an acknowledged creation; the same id acknowledged twice with other data is a violation.</summary>
    public void Created(AcknowledgedCreate create)
    {
        var stored = _creates.GetOrAdd(create.Id, create);
        if (stored != create)
        {
            Violation($"candidate {create.Id} was acknowledged twice with different data: {stored} and {create}");
        }
    }

    /// <summary>Records an acknowledged transition of <paramref name="candidate"/> into <paramref name="state"/> (one writer per candidate).</summary>
    public void Transitioned(Guid candidate, string state) =>
        _transitions.AddOrUpdate(candidate, (1, state), (_, t) => (t.Count + 1, state));

    /// <summary>A transition whose outcome the client does not know (timeout, connection lost, 5xx).</summary>
    public void TransitionUncertain(Guid candidate) => _uncertain.TryAdd(candidate, 0);

    /// <summary>Records that a list or read by a user of <paramref name="tenant"/> returned candidate <paramref name="id"/>.</summary>
    public void Seen(Guid tenant, Guid id) => _seen.TryAdd((tenant, id), 0);

    /// <summary>A violation found while the drill ran (e.g. another tenant's candidate answered 200).</summary>
    public void Violation(string message) => _violations.Enqueue(message);

    /// <summary>
    /// Checks the ledger against the database (owner connection, no RLS): every acknowledged creation present exactly
    /// once, with its tenant and name; every row a caller saw belongs to the caller's tenant; every acknowledged
    /// transition applied once (final status, audit rows). Returns the violations (with those found while running).
    /// </summary>
    public async Task<List<string>> VerifyAsync(string ownerConnectionString, CancellationToken ct)
    {
        var violations = new List<string>(_violations);
        var rows = new Dictionary<Guid, (Guid Tenant, string Name, string Status)>();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync(ct);
        await using (var cmd = new NpgsqlCommand("SELECT tenant_id, id, name, status FROM candidates", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var name = r.GetString(2);
                rows[r.GetGuid(1)] = (r.GetGuid(0), name, r.GetString(3));
                byName[name] = byName.GetValueOrDefault(name) + 1;
            }
        }

        var audit = new Dictionary<Guid, (Guid Tenant, int Count)>();
        await using (var cmd = new NpgsqlCommand("SELECT entity_id::uuid, tenant_id, count(*)::int FROM candidates_audit GROUP BY 1, 2", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var id = r.GetGuid(0);
                if (audit.TryGetValue(id, out var other))
                {
                    violations.Add($"candidate {id} has audit rows in two tenants ({other.Tenant} and {r.GetGuid(1)})");
                }

                audit[id] = (r.GetGuid(1), r.GetInt32(2));
            }
        }

        foreach (var c in _creates.Values)
        {
            if (!rows.TryGetValue(c.Id, out var row))
            {
                violations.Add($"lost: acknowledged candidate {c.Id} ('{c.Name}', tenant {c.Tenant}) is not in the database");
                continue;
            }

            if (row.Tenant != c.Tenant)
            {
                violations.Add($"crossed: acknowledged candidate {c.Id} of tenant {c.Tenant} is stored in tenant {row.Tenant}");
            }

            if (row.Name != c.Name)
            {
                violations.Add($"changed: acknowledged candidate {c.Id} is stored as '{row.Name}', not '{c.Name}'");
            }

            if (byName.GetValueOrDefault(c.Name) != 1)
            {
                violations.Add($"duplicated: '{c.Name}' (one request, one Idempotency-Key) is stored {byName.GetValueOrDefault(c.Name)} times");
            }
        }

        foreach (var (tenant, id) in _seen.Keys)
        {
            if (!rows.TryGetValue(id, out var row))
            {
                violations.Add($"phantom: a user of tenant {tenant} was shown candidate {id}, which is not in the database");
            }
            else if (row.Tenant != tenant)
            {
                violations.Add($"crossed: a user of tenant {tenant} was shown candidate {id} of tenant {row.Tenant}");
            }
        }

        foreach (var (id, (count, state)) in _transitions)
        {
            var uncertain = _uncertain.ContainsKey(id);
            var audited = audit.TryGetValue(id, out var a) ? a.Count : 0;
            if (!rows.TryGetValue(id, out var row))
            {
                violations.Add($"lost: candidate {id} with {count} acknowledged transition(s) is not in the database");
                continue;
            }

            if (!uncertain && row.Status != state)
            {
                violations.Add($"transition lost or half-applied: candidate {id} is {row.Status} in the database; the last acknowledged transition put it in {state}");
            }

            if (uncertain ? audited < count || audited > count + 1 : audited != count)
            {
                violations.Add($"audit: candidate {id} has {audited} audit row(s) for {count} acknowledged transition(s){(uncertain ? " (+1 unknown)" : "")}");
            }

            if (audited > 0 && a.Tenant != row.Tenant)
            {
                violations.Add($"crossed: candidate {id}'s audit rows are in tenant {a.Tenant}, the candidate in {row.Tenant}");
            }
        }

        return violations;
    }

    /// <summary>The tenant of each candidate in the database (owner connection): for checking SSE events.</summary>
    public static async Task<Dictionary<Guid, Guid>> CandidateTenantsAsync(string ownerConnectionString, CancellationToken ct)
    {
        var result = new Dictionary<Guid, Guid>();
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT id, tenant_id FROM candidates", conn);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            result[r.GetGuid(0)] = r.GetGuid(1);
        }

        return result;
    }
}
