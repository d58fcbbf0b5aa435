using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Npgsql;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// Context left over or forged through PostgreSQL settings: the context statement run at session level, single
/// settings changed with set_config / SET / SET LOCAL / RESET, in earlier (committed or rolled back) transactions or in
/// this one before the status change. Oracle: a small model of PostgreSQL's setting rules; a status change may pass
/// only when the actor, kind and reason in force are the ones the context statement set in this same transaction.
/// </summary>
public sealed class AuditContextTests(CandidateDatabase db) : IClassFixture<CandidateDatabase>
{
    private static readonly string[] Settings = ["app.actor_id", "app.actor_kind", "app.reason"];
    private static readonly string[][] Values = [["alice", "bob", " "], ["USER", "SYSTEM", "ROBOT"], ["hired", "moved on", ""]];

    public enum OpKind
    {
        ContextLocal,
        ContextSession,
        SetConfigLocal,
        SetConfigSession,
        SetLocal,
        Set,
        Reset,
        ResetAll,
    }

    public sealed record Op(OpKind Kind, int Setting, int A, int K, int R)
    {
        public override string ToString() => Kind is OpKind.ContextLocal or OpKind.ContextSession ? $"{Kind}({A},{K},{R})" : $"{Kind}({Settings[Setting]}={A})";
    }

    /// <summary>Earlier transactions (each committed or rolled back), then the operations of the transaction that changes the status.</summary>
    public sealed record Case((Op[] Ops, bool Commit)[] Earlier, Op[] Now)
    {
        public override string ToString() =>
            string.Concat(Earlier.Select(e => $"[{string.Join(", ", e.Ops.Select(o => o.ToString()))}]{(e.Commit ? "commit" : "rollback")} ")) + $"now [{string.Join(", ", Now.Select(o => o.ToString()))}]";
    }

    public static class Cases
    {
        private static readonly Gen<Op> OpGen =
            from kind in Gen.Frequency((4, Gen.Constant(OpKind.ContextLocal)), (3, Gen.Constant(OpKind.ContextSession)), (6, Gen.Elements(OpKind.SetConfigLocal, OpKind.SetConfigSession, OpKind.SetLocal, OpKind.Set, OpKind.Reset)), (1, Gen.Constant(OpKind.ResetAll)))
            from setting in Gen.Choose(0, 2)
            from a in Gen.Frequency((5, Gen.Choose(0, 1)), (1, Gen.Constant(2)))
            from k in Gen.Frequency((5, Gen.Choose(0, 1)), (1, Gen.Constant(2)))
            from r in Gen.Frequency((5, Gen.Choose(0, 1)), (1, Gen.Constant(2)))
            select new Op(kind, setting, a, k, r);

        public static Arbitrary<Case> Arb() =>
            (from earlier in Gen.Choose(0, 2).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 3).SelectMany(m => Gen.ArrayOf(OpGen, m)).SelectMany(ops => Gen.Elements(true, true, false), (ops, commit) => (ops, commit)), n))
             from now in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(OpGen, n))
             select new Case(earlier, now)).ToArbitrary();
    }

    [Property(MaxTest = 150, Arbitrary = [typeof(Cases)])]
    public void A_status_change_passes_only_with_context_set_for_its_own_transaction(Case c)
    {
        using var scene = AttackScene.Open(db);
        var (admin, app) = (scene.Admin, scene.App);
        var id = scene.Row();

        // The model: committed session values, and per transaction the session values and the local overlay.
        var session = new Dictionary<string, string>(StringComparer.Ordinal);
        var binding = (string?)null;
        var tx = 0;
        foreach (var (ops, commit) in c.Earlier)
        {
            tx++;
            var txSession = new Dictionary<string, string>(session, StringComparer.Ordinal);
            var local = new Dictionary<string, string>(StringComparer.Ordinal);
            var txBinding = binding;
            var localBinding = (string?)null;
            using var t = app.BeginTransaction();
            foreach (var op in ops)
            {
                Apply(app, t, op, tx, txSession, local, ref txBinding, ref localBinding);
            }

            if (commit)
            {
                t.Commit();
                session = txSession;
                binding = txBinding;
            }
            else
            {
                t.Rollback();
            }
        }

        tx++;
        var nowSession = new Dictionary<string, string>(session, StringComparer.Ordinal);
        var nowLocal = new Dictionary<string, string>(StringComparer.Ordinal);
        var nowBinding = binding;
        var nowLocalBinding = (string?)null;
        PostgresException? error = null;
        using (var t = app.BeginTransaction())
        {
            foreach (var op in c.Now)
            {
                Apply(app, t, op, tx, nowSession, nowLocal, ref nowBinding, ref nowLocalBinding);
            }

            try
            {
                using var update = new NpgsqlCommand("UPDATE public.candidates SET status = 'SCREENING' WHERE id = @id", app, t);
                update.Parameters.AddWithValue("id", id);
                update.ExecuteNonQuery();
                t.Commit();
            }
            catch (PostgresException e)
            {
                error = e;
                t.Rollback();
            }
        }

        string Current(string s) => nowLocal.TryGetValue(s, out var v) ? v : nowSession.GetValueOrDefault(s, "");
        var (actor, kind, reason) = (Current(Settings[0]), Current(Settings[1]), Current(Settings[2]));
        var expected = (nowLocalBinding ?? nowBinding) == Bind(tx, actor, kind, reason)
            && actor.Trim().Length > 0 && kind is "USER" or "SYSTEM" && reason.Trim().Length > 0;
        var history = AttackKit.History(admin, id);
        Assert.True(expected == (error is null), $"{c}: model expects {(expected ? "accepted" : "refused")} (actor '{actor}', kind '{kind}', reason '{reason}') but the database {(error is null ? "accepted" : "refused: " + error.SqlState + " " + error.MessageText)}");
        if (error is not null)
        {
            Assert.Equal(FsmSqlState.AuditContextMissing, error.SqlState);
            Assert.Empty(history);
        }
        else
        {
            Assert.Equal(actor, Scalar(admin, "SELECT actor_id FROM public.candidates_audit WHERE entity_id = @id", id));
        }
    }

    private static string Bind(int tx, string a, string k, string r) => $"{tx}|{a}|{k}|{r}";

    private static string? Scalar(NpgsqlConnection conn, string sql, long id)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return cmd.ExecuteScalar() as string;
    }

    private static void Apply(NpgsqlConnection conn, NpgsqlTransaction t, Op op, int tx, Dictionary<string, string> session, Dictionary<string, string> local, ref string? binding, ref string? localBinding)
    {
        var value = Values[op.Setting][op.A];
        var name = Settings[op.Setting];
        switch (op.Kind)
        {
            case OpKind.ContextLocal:
            case OpKind.ContextSession:
            {
                var isLocal = op.Kind == OpKind.ContextLocal;
                var (a, k, r) = (Values[0][op.A], Values[1][op.K], Values[2][op.R]);
                var sql = isLocal ? Pipeline.CandidatePipeline.Table.SetContextSql : Pipeline.CandidatePipeline.Table.SetContextSql.Replace(", true)", ", false)", StringComparison.Ordinal);
                using (var cmd = new NpgsqlCommand(sql, conn, t))
                {
                    cmd.Parameters.Add(new NpgsqlParameter { Value = a }); // $1 actor id
                    cmd.Parameters.Add(new NpgsqlParameter { Value = k }); // $2 actor kind
                    cmd.Parameters.Add(new NpgsqlParameter { Value = r }); // $3 reason
                    cmd.ExecuteNonQuery();
                }

                foreach (var (s, v) in new[] { (Settings[0], a), (Settings[1], k), (Settings[2], r) })
                {
                    Write(s, v, isLocal, session, local);
                }

                if (isLocal)
                {
                    localBinding = Bind(tx, a, k, r);
                }
                else
                {
                    binding = Bind(tx, a, k, r);
                    localBinding = null;
                }

                return;
            }

            case OpKind.SetConfigLocal:
            case OpKind.SetConfigSession:
            {
                using var cmd = new NpgsqlCommand("SELECT set_config(@n, @v, @l)", conn, t);
                cmd.Parameters.AddWithValue("n", name);
                cmd.Parameters.AddWithValue("v", value);
                cmd.Parameters.AddWithValue("l", op.Kind == OpKind.SetConfigLocal);
                cmd.ExecuteNonQuery();
                Write(name, value, op.Kind == OpKind.SetConfigLocal, session, local);
                return;
            }

            case OpKind.SetLocal:
            case OpKind.Set:
                Exec(conn, t, $"SET {(op.Kind == OpKind.SetLocal ? "LOCAL " : "")}{name} = '{value}'");
                Write(name, value, op.Kind == OpKind.SetLocal, session, local);
                return;
            case OpKind.Reset:
                Exec(conn, t, $"RESET {name}");
                Write(name, "", false, session, local);
                return;
            default:
                Exec(conn, t, "RESET ALL");
                foreach (var s in Settings)
                {
                    Write(s, "", false, session, local);
                }

                binding = "";
                localBinding = null;
                return;
        }
    }

    /// <summary>A session-level write replaces any local value for the rest of the transaction; a local one overlays.</summary>
    private static void Write(string name, string value, bool isLocal, Dictionary<string, string> session, Dictionary<string, string> local)
    {
        if (isLocal)
        {
            local[name] = value;
        }
        else
        {
            session[name] = value;
            local.Remove(name);
        }
    }

    private static void Exec(NpgsqlConnection conn, NpgsqlTransaction t, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, conn, t);
        cmd.ExecuteNonQuery();
    }
}
