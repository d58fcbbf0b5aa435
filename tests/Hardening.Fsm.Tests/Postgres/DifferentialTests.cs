using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Pipeline;
using Npgsql;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// The in-memory machine and PostgreSQL with the generated SQL, driven by the same random attempts, must agree at
/// every step: same accept/reject decision (and matching reason), same row, invariants holding, one audit row per
/// accepted transition in order.
/// </summary>
public sealed class DifferentialTests(CandidateDatabase db, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<CandidateDatabase>
{
    public enum StepKind
    {
        Fire,
        SetSalary,
        SetSigned,
        TamperBlacklist,

        /// <summary>An unsaved change to a guarded field, then the trigger, saved in one UPDATE (as an ORM saves the entity).</summary>
        FireWithChange,
    }

    /// <summary>
    /// One attempt. A Fire step either moves the pipeline forward (<see cref="Forward"/>: the test's own table of the
    /// next business step, chosen at run time) or fires <see cref="Trigger"/>, so walks get deep and still probe every rule.
    /// </summary>
    public sealed record Step(StepKind Kind, string Trigger, int ActorChoice, int ReasonChoice, bool Stale, int? Salary, bool Flag, bool Forward = false)
    {
        public override string ToString() => Kind switch
        {
            StepKind.Fire => $"Fire({(Forward ? "forward/" : "")}{Trigger}, actor#{ActorChoice}, reason#{ReasonChoice}{(Stale ? ", stale" : "")})",
            StepKind.SetSalary => $"SetSalary({Salary?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"})",
            StepKind.SetSigned => $"SetSigned({Flag})",
            StepKind.FireWithChange => $"FireWith({(ReasonChoice % 2 == 0 ? "salary=" + (Salary?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null") : "signed=" + Flag)}, {(Forward ? "forward/" : "")}{Trigger}{(Stale ? ", stale" : "")})",
            _ => $"TamperBlacklist({Flag})",
        };
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Outcomes = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, string[]> NextBusinessStep = new()
    {
        [Applied] = ["screen"],
        [Screening] = ["interview", "interview", "make_offer"],
        [Interview] = ["make_offer"],
        [Offer] = ["hire"],
        [Joined] = ["leave"],
    };

    private static readonly string[] Reasons = ["CV parsed", "It's a fit", "Ünïcode ✓ reason", "x'); DROP TABLE candidates; --"];

    private static readonly Gen<Step> StepGen = Gen.Frequency(
        (70, from trigger in Gen.Frequency((3, Gen.Elements("screen", "interview", "make_offer", "hire", "leave")), (1, Gen.Elements("reject", "withdraw")))
             from forward in Gen.Choose(0, 99)
             from actor in Gen.Choose(0, 39)
             from reason in Gen.Choose(0, 39)
             from stale in Gen.Choose(0, 19)
             select new Step(StepKind.Fire, trigger, actor, reason, stale == 0, null, false, forward < 65)),
        (12, from s in Gen.Frequency((2, Gen.Constant<int?>(null)), (1, Gen.Constant<int?>(0)), (6, Gen.Choose(1, 200_000).Select(v => (int?)v)))
             select new Step(StepKind.SetSalary, "", 0, 0, false, s, false)),
        (10, from f in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false))) select new Step(StepKind.SetSigned, "", 0, 0, false, null, f)),
        (8, from f in Gen.Elements(true, false) select new Step(StepKind.TamperBlacklist, "", 0, 0, false, null, f)),
        (25, from trigger in Gen.Elements("screen", "interview", "make_offer", "hire", "leave", "reject")
             from forward in Gen.Choose(0, 99)
             from actor in Gen.Choose(2, 39)
             from which in Gen.Choose(2, 39)
             from stale in Gen.Choose(0, 19)
             from s in Gen.Frequency((2, Gen.Constant<int?>(null)), (2, Gen.Constant<int?>(0)), (4, Gen.Choose(1, 200_000).Select(v => (int?)v)))
             from f in Gen.Elements(true, false)
             select new Step(StepKind.FireWithChange, trigger, actor, which, stale == 0, s, f, forward < 65)));

    private static Gen<Step[]> Sequences => Gen.Choose(1, 20).SelectMany(n => Gen.ArrayOf(StepGen, n));

    [Property(MaxTest = 220)]
    public Property In_memory_machine_and_postgres_make_the_same_decisions_and_end_in_the_same_state()
    {
        var machine = Build();
        return Prop.ForAll(Sequences.ToArbitrary(), steps =>
        {
            using var conn = new NpgsqlConnection(db.ConnectionString);
            conn.Open();
            Run(machine, conn, steps);
        });
    }

    [Fact]
    public void Random_walks_from_the_generator_reach_every_outcome()
    {
        // The random walk must exercise every outcome, or the agreement above proves little: 220 walks drawn from
        // the property's generator, run the same way (tests of one class run one at a time, so Outcomes is this run's).
        var machine = Build();
        using var conn = new NpgsqlConnection(db.ConnectionString);
        conn.Open();
        Outcomes.Clear();
        var run = 0;
        foreach (var steps in Sequences.Sample(220, 100))
        {
            Run(machine, conn, steps);
            run++;
        }

        Assert.Equal(220, run);
        var seen = string.Join(", ", Outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value}"));
        output.WriteLine($"{run} sequences: {seen}");
        foreach (var reason in Enum.GetValues<RejectionReason>())
        {
            Assert.True(Outcomes.ContainsKey(reason.ToString()), $"no {reason} outcome in the run: {seen}");
        }

        Assert.True(Outcomes.ContainsKey("entered " + LeftCompany), $"no candidate reached LEFT_COMPANY: {seen}");
        foreach (var reason in new[] { RejectionReason.None, RejectionReason.GuardFailed, RejectionReason.InvariantWouldBreak })
        {
            Assert.True(Outcomes.ContainsKey("with change " + reason), $"no {reason} outcome for a change saved with the transition: {seen}");
        }
    }

    private static void Run(StateMachine<Candidate> machine, NpgsqlConnection conn, Step[] steps)
    {
        var id = CandidateSql.NextId();
        var c = Candidate.Load(id, Applied, blacklisted: false, salary: null, signed: false);
        using (var insert = new NpgsqlCommand("INSERT INTO public.candidates (id) VALUES (@id)", conn))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.ExecuteNonQuery();
        }

        var accepted = new List<TransitionRecord>();
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var where = $"step {i} {step} of [{string.Join(", ", steps.Select(s => s.ToString()))}] for candidate {id} in {c.State}";
            switch (step.Kind)
            {
                case StepKind.Fire:
                    Fire(machine, conn, c, step, accepted, where);
                    break;
                case StepKind.FireWithChange:
                    Fire(machine, conn, c, step, accepted, where, step.ReasonChoice % 2 == 0 ? ("expected_salary", step.Salary) : ("offer_signed", step.Flag));
                    break;
                case StepKind.SetSalary:
                {
                    var old = c.ExpectedSalary;
                    c.ExpectedSalary = step.Salary;
                    var broken = machine.CheckInvariants(c);
                    if (broken.Count > 0)
                    {
                        c.ExpectedSalary = old;
                    }

                    var error = Execute(conn, "UPDATE public.candidates SET expected_salary = @v WHERE id = @id", id, step.Salary);
                    Assert.True((broken.Count > 0) == (error is not null), $"{where}: C# invariants broken [{string.Join(",", broken)}] but database error {error?.SqlState}");
                    if (error is not null)
                    {
                        Assert.Equal((FsmSqlState.CheckViolation, "candidates_fsm_inv_" + broken[0]), (error.SqlState, error.ConstraintName));
                    }

                    break;
                }

                case StepKind.SetSigned:
                    c.OfferSigned = step.Flag;
                    Assert.Empty(machine.CheckInvariants(c));
                    Assert.Null(Execute(conn, "UPDATE public.candidates SET offer_signed = @v WHERE id = @id", id, step.Flag));
                    break;
                case StepKind.TamperBlacklist:
                {
                    // The C# entity cannot express this write (private setter); the database must refuse any change.
                    var error = Execute(conn, "UPDATE public.candidates SET is_blacklisted = @v WHERE id = @id", id, step.Flag);
                    Assert.Equal(step.Flag != c.IsBlacklisted ? FsmSqlState.ProtectedFieldChanged : null, error?.SqlState);
                    break;
                }
            }

            AssertSameRow(machine, conn, c, where);
        }

        AssertAudit(conn, id, accepted);
    }

    private static void Fire(StateMachine<Candidate> machine, NpgsqlConnection conn, Candidate c, Step step, List<TransitionRecord> accepted, string where, (string Column, object? Value)? change = null)
    {
        var before = c.State;
        var trigger = step.Forward && NextBusinessStep.TryGetValue(before, out var next) ? next[step.ActorChoice % next.Length] : step.Trigger;
        var expected = step.Stale ? States[(Array.IndexOf(States, before) + 1 + step.ActorChoice % 7) % States.Length] : before;
        var (actorId, kind) = step.ActorChoice switch
        {
            0 => ((string?)null, ActorKind.User),
            1 => ("  ", ActorKind.User),
            < 6 => ("recruiter-" + step.ActorChoice, ActorKind.User),
            _ => ("job-" + step.ActorChoice, ActorKind.System),
        };
        var reason = step.ReasonChoice switch
        {
            0 => "",
            1 => " \t ",
            _ => Reasons[step.ReasonChoice % Reasons.Length],
        };

        // The change is made on the entity before firing and kept only if the transition is accepted (the app saves both or neither).
        var (oldSalary, oldSigned) = (c.ExpectedSalary, c.OfferSigned);
        if (change is { Column: "expected_salary" })
        {
            c.ExpectedSalary = (int?)change.Value.Value;
        }
        else if (change is not null)
        {
            c.OfferSigned = (bool)change.Value.Value!;
        }

        var result = machine.TryFire(c, trigger, new Actor(actorId ?? "", kind), reason, expected);
        if (!result.Accepted)
        {
            (c.ExpectedSalary, c.OfferSigned) = (oldSalary, oldSigned);
        }

        Outcomes.AddOrUpdate(result.Reason.ToString(), 1, (_, n) => n + 1);
        if (change is not null)
        {
            Outcomes.AddOrUpdate("with change " + result.Reason, 1, (_, n) => n + 1);
        }

        if (result.Accepted)
        {
            Outcomes.AddOrUpdate("entered " + result.Record!.To, 1, (_, n) => n + 1);
        }

        var target = TriggerTargets[trigger];
        if (change is not null && target == expected)
        {
            // Not a transition in either model: the app saves nothing (a plain field change is the Set* steps' business).
            Assert.False(result.Accepted, $"{where}: C# accepted {result}");
            return;
        }

        int rows;
        PostgresException? error = null;
        using (var tx = conn.BeginTransaction())
        {
            try
            {
                using var batch = new NpgsqlBatch(conn, tx);
                if (actorId is not null)
                {
                    batch.BatchCommands.Add(Cmd("SELECT set_config('app.actor_id', @v, true)", actorId));
                }

                batch.BatchCommands.Add(Cmd("SELECT set_config('app.actor_kind', @v, true)", Actor.KindName(kind)));
                batch.BatchCommands.Add(Cmd("SELECT set_config('app.reason', @v, true)", reason));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(CandidateSql.BindContextSql));
                var update = new NpgsqlBatchCommand($"UPDATE public.candidates SET {(change is null ? "" : change.Value.Column + " = @change, ")}status = @target WHERE id = @id AND status = @expected");
                if (change is not null)
                {
                    update.Parameters.AddWithValue("change", change.Value.Value ?? DBNull.Value);
                    if (change.Value.Value is null)
                    {
                        update.Parameters["change"].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer;
                    }
                }

                update.Parameters.AddWithValue("target", target);
                update.Parameters.AddWithValue("id", c.Id);
                update.Parameters.AddWithValue("expected", expected);
                batch.BatchCommands.Add(update);
                batch.ExecuteNonQuery();
                rows = update.RecordsAffected;
                if (change is null || (rows == 1 && target != expected))
                {
                    tx.Commit();
                }
                else
                {
                    tx.Rollback(); // not a transition: the app saves nothing
                }
            }
            catch (PostgresException e)
            {
                error = e;
                rows = 0;
                tx.Rollback();
            }
        }

        // An UPDATE that keeps the status is not a transition in the database; the machine must not accept it either.
        var dbTransitioned = error is null && rows == 1 && target != expected;
        Assert.True(result.Accepted == dbTransitioned, $"{where}: C# {result} but database rows={rows} error={error?.SqlState} {error?.MessageText}");
        if (result.Accepted)
        {
            accepted.Add(result.Record!);
            return;
        }

        if (target == expected && error is null)
        {
            Assert.Equal(rows == 0, result.Reason == RejectionReason.StaleState);
            return;
        }

        var dbReason = error?.SqlState switch
        {
            null => "stale",
            FsmSqlState.AuditContextMissing => "context",
            FsmSqlState.TerminalState => RejectionReason.Terminal.ToString(),
            FsmSqlState.TransitionNotPermitted => RejectionReason.NotPermitted.ToString(),
            FsmSqlState.GuardFailed => RejectionReason.GuardFailed.ToString(),
            FsmSqlState.HistoryMissing => RejectionReason.HistoryMissing.ToString(),
            FsmSqlState.CheckViolation => RejectionReason.InvariantWouldBreak.ToString(),
            var other => "unexpected " + other,
        };
        var csReason = result.Reason switch
        {
            RejectionReason.StaleState => "stale",
            RejectionReason.ActorMissing or RejectionReason.ReasonMissing => "context",
            var r => r.ToString(),
        };
        Assert.True(csReason == dbReason, $"{where}: C# {result} but database {dbReason}: {error?.MessageText}");
        if (result.Reason == RejectionReason.GuardFailed || result.Reason == RejectionReason.HistoryMissing)
        {
            Assert.Contains(result.Detail!, error!.MessageText, StringComparison.Ordinal);
        }

        if (result.Reason == RejectionReason.InvariantWouldBreak)
        {
            Assert.Equal("candidates_fsm_inv_" + result.Detail, error!.ConstraintName);
        }
    }

    private static NpgsqlBatchCommand Cmd(string sql, string value)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        cmd.Parameters.AddWithValue("v", value);
        return cmd;
    }

    private static PostgresException? Execute(NpgsqlConnection conn, string sql, long id, object? value)
    {
        using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("v", value ?? DBNull.Value);
        if (value is null)
        {
            cmd.Parameters["v"].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer;
        }

        try
        {
            cmd.ExecuteNonQuery();
            return null;
        }
        catch (PostgresException e)
        {
            return e;
        }
    }

    private static void AssertSameRow(StateMachine<Candidate> machine, NpgsqlConnection conn, Candidate c, string where)
    {
        // The invariants written out by hand, independently of the generated constraints.
        using var cmd = new NpgsqlCommand("""
            SELECT status, is_blacklisted, expected_salary, offer_signed,
                   (status <> 'LEFT_COMPANY' OR is_blacklisted) AND (status <> 'OFFER' OR expected_salary IS NOT NULL)
            FROM public.candidates WHERE id = @id
            """, conn);
        cmd.Parameters.AddWithValue("id", c.Id);
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        var row = (r.GetString(0), r.GetBoolean(1), r.IsDBNull(2) ? (int?)null : r.GetInt32(2), r.GetBoolean(3));
        Assert.True((c.State, c.IsBlacklisted, c.ExpectedSalary, c.OfferSigned) == row, $"{where}: C# {(c.State, c.IsBlacklisted, c.ExpectedSalary, c.OfferSigned)} but database {row}");
        Assert.True(r.GetBoolean(4), $"{where}: an invariant does not hold in the database");
        Assert.Empty(machine.CheckInvariants(c));
    }

    private static void AssertAudit(NpgsqlConnection conn, long id, List<TransitionRecord> accepted)
    {
        using var cmd = new NpgsqlCommand("SELECT from_state, to_state, trigger, actor_id, actor_kind, reason, is_terminal FROM public.candidates_audit WHERE entity_id = @id ORDER BY id", conn);
        cmd.Parameters.AddWithValue("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var r = cmd.ExecuteReader();
        var rows = new List<(string, string, string, string, string, string, bool)>();
        while (r.Read())
        {
            rows.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetBoolean(6)));
        }

        Assert.Equal(accepted.Select(a => (a.From, a.To, a.Trigger, a.ActorId, Actor.KindName(a.ActorKind), a.Reason, a.IsTerminal)), rows);
    }
}
