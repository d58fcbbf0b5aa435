using FsCheck;
using FsCheck.Fluent;
using Npgsql;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// The test's own model of the pipeline (written out by hand, not read from the machine), used as the oracle of the
/// attack tests, and synchronous helpers that act as the application role would.
/// </summary>
internal static class AttackKit
{
    /// <summary>Permitted moves by hand: JOINED only after INTERVIEW, LEFT_COMPANY only after JOINED.</summary>
    public static readonly Dictionary<string, string[]> Edges = new()
    {
        [Applied] = [Screening, Rejected, Withdrawn],
        [Screening] = [Interview, Offer, Rejected, Withdrawn],
        [Interview] = [Offer, Rejected, Withdrawn],
        [Offer] = [Joined, Rejected, Withdrawn],
        [Joined] = [LeftCompany],
    };

    /// <summary>The 14 rows the transitions table must keep.</summary>
    public static readonly string[] TransitionRows =
    [
        "APPLIED>REJECTED:reject", "APPLIED>SCREENING:screen", "APPLIED>WITHDRAWN:withdraw", "INTERVIEW>OFFER:make_offer", "INTERVIEW>REJECTED:reject",
        "INTERVIEW>WITHDRAWN:withdraw", "JOINED>LEFT_COMPANY:leave", "OFFER>JOINED:hire", "OFFER>REJECTED:reject", "OFFER>WITHDRAWN:withdraw",
        "SCREENING>INTERVIEW:interview", "SCREENING>OFFER:make_offer", "SCREENING>REJECTED:reject", "SCREENING>WITHDRAWN:withdraw",
    ];

    /// <summary>Choices for a legal walk: each picks one of the permitted next states (history respected).</summary>
    public static Gen<int[]> Walks(int min, int max) => Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 11), n));

    /// <summary>The legal walk from APPLIED that <paramref name="choices"/> pick (stops at a terminal state).</summary>
    public static List<string> Walk(int[] choices)
    {
        var path = new List<string>();
        var state = Applied;
        foreach (var c in choices)
        {
            if (!Edges.TryGetValue(state, out var next))
            {
                break;
            }

            var legal = next.Where(s => s != Joined || path.Contains(Interview)).ToArray();
            state = legal[c % legal.Length];
            path.Add(state);
        }

        return path;
    }

    public static NpgsqlConnection Open(string connectionString)
    {
        var conn = new NpgsqlConnection(connectionString + ";Pooling=false");
        conn.Open();
        return conn;
    }

    /// <summary>Runs <paramref name="sql"/>; returns the server's error instead of throwing.</summary>
    public static PostgresException? Try(NpgsqlConnection conn, string sql, long id = 0)
    {
        try
        {
            using var cmd = new NpgsqlCommand(sql, conn);
            cmd.Parameters.AddWithValue("id", id);
            cmd.ExecuteNonQuery();
            return null;
        }
        catch (PostgresException e)
        {
            // A statement list with its own BEGIN stops at the error and leaves the transaction open.
            using var rollback = new NpgsqlCommand("ROLLBACK", conn);
            rollback.ExecuteNonQuery();
            return e;
        }
    }

    /// <summary>Inserts a candidate as <paramref name="conn"/>'s role (salary set, offer signed, so guards pass).</summary>
    public static void Insert(NpgsqlConnection conn, long id)
    {
        var error = Try(conn, "INSERT INTO public.candidates (id, expected_salary, offer_signed) VALUES (@id, 50000, true)", id);
        Assert.Null(error);
    }

    /// <summary>One status change in its own transaction with the context set by <see cref="PostgresTableMapping.SetContextSql"/>.</summary>
    public static PostgresException? Move(NpgsqlConnection conn, long id, string target, string reason = "pipeline step")
    {
        using var tx = conn.BeginTransaction();
        try
        {
            using (var set = new NpgsqlCommand(Table.SetContextSql, conn, tx))
            {
                set.Parameters.Add(new NpgsqlParameter { Value = "recruiter-7" }); // $1 actor id
                set.Parameters.Add(new NpgsqlParameter { Value = "USER" }); // $2 actor kind
                set.Parameters.Add(new NpgsqlParameter { Value = reason }); // $3 reason
                set.ExecuteNonQuery();
            }

            using var cmd = new NpgsqlCommand("UPDATE public.candidates SET status = @s WHERE id = @id", conn, tx);
            cmd.Parameters.AddWithValue("s", target);
            cmd.Parameters.AddWithValue("id", id);
            cmd.ExecuteNonQuery();
            tx.Commit();
            return null;
        }
        catch (PostgresException e)
        {
            tx.Rollback();
            return e;
        }
    }

    public static void MoveAll(NpgsqlConnection conn, long id, IEnumerable<string> path)
    {
        foreach (var s in path)
        {
            var error = Move(conn, id, s);
            Assert.True(error is null, $"legal move of {id} to {s} refused: {error?.SqlState} {error?.MessageText}");
        }
    }

    /// <summary>The stored row (status, blacklisted) or null, read as the superuser.</summary>
    public static (string Status, bool Blacklisted)? Row(NpgsqlConnection admin, long id)
    {
        using var cmd = new NpgsqlCommand("SELECT status, is_blacklisted FROM public.candidates WHERE id = @id", admin);
        cmd.Parameters.AddWithValue("id", id);
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetString(0), r.GetBoolean(1)) : null;
    }

    /// <summary>The audit rows of <paramref name="id"/> in order, as "from>to:trigger:reason", read as the superuser.</summary>
    public static List<string> History(NpgsqlConnection admin, long id)
    {
        using var cmd = new NpgsqlCommand("SELECT from_state || '>' || to_state || ':' || trigger || ':' || reason FROM public.candidates_audit WHERE entity_id = @id ORDER BY id", admin);
        cmd.Parameters.AddWithValue("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
        {
            rows.Add(r.GetString(0));
        }

        return rows;
    }

    public static List<string> TransitionsTable(NpgsqlConnection admin)
    {
        using var cmd = new NpgsqlCommand("SELECT from_state || '>' || to_state || ':' || trigger FROM public.candidates_transitions ORDER BY 1", admin);
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
        {
            rows.Add(r.GetString(0));
        }

        return rows;
    }

    /// <summary>
    /// The row's audit history is a legal walk from APPLIED written by the trigger (no forged reason) that ends in
    /// the row's status, and the blacklist flag matches the state: the oracle, by the model above.
    /// </summary>
    public static void AssertLegalHistory(NpgsqlConnection admin, long id, string where)
    {
        var row = Row(admin, id);
        Assert.True(row is not null, $"{where}: row {id} is gone");
        var history = History(admin, id);
        var state = Applied;
        var visited = new List<string> { Applied };
        foreach (var h in history)
        {
            var parts = h.Split(':');
            var (from, to) = (parts[0].Split('>')[0], parts[0].Split('>')[1]);
            Assert.True(from == state, $"{where}: audit row {h} does not start from {state}: [{string.Join(", ", history)}]");
            Assert.True(Edges.TryGetValue(from, out var next) && next.Contains(to), $"{where}: audit row {h} is not a permitted move: [{string.Join(", ", history)}]");
            Assert.True(to != Joined || visited.Contains(Interview), $"{where}: JOINED without INTERVIEW: [{string.Join(", ", history)}]");
            Assert.True(TriggerTargets[parts[1]] == to, $"{where}: audit row {h} names the wrong trigger");
            Assert.True(parts[2] != "forged", $"{where}: forged audit row {h}");
            state = to;
            visited.Add(to);
        }

        Assert.True(row!.Value.Status == state, $"{where}: row is {row.Value.Status} but its history ends in {state}: [{string.Join(", ", history)}]");
        Assert.True(row.Value.Blacklisted == (state == LeftCompany), $"{where}: is_blacklisted {row.Value.Blacklisted} in {state}");
    }
}

/// <summary>
/// Where every attack starts: the superuser (the oracle's eyes) and the application role (the attacker) connected to
/// the fixture's database, and rows inserted and walked along legal paths by the application role.
/// </summary>
internal sealed class AttackScene : IDisposable
{
    private AttackScene(CandidateDatabase db)
    {
        Admin = AttackKit.Open(db.ConnectionString);
        App = AttackKit.Open(db.AppConnectionString);
    }

    public NpgsqlConnection Admin { get; }

    public NpgsqlConnection App { get; }

    public static AttackScene Open(CandidateDatabase db) => new(db);

    /// <summary>A new row, inserted and moved through <paramref name="path"/> by the application role; returns its id.</summary>
    public long Row(IEnumerable<string>? path = null)
    {
        var id = CandidateSql.NextId();
        AttackKit.Insert(App, id);
        AttackKit.MoveAll(App, id, path ?? []);
        return id;
    }

    public void Dispose()
    {
        Admin.Dispose();
        App.Dispose();
    }
}
