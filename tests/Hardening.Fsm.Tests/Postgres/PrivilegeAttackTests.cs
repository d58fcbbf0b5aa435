using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Npgsql;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// Every way the application role, holding the broad grants of <see cref="HostileGrantsDatabase"/>, could write what
/// the trigger trusts (audit rows, transition rules, the trigger functions, triggers of its own, trigger switches),
/// followed by the illegal transition the attack was for. Oracle: PostgreSQL's stored rows, checked as the superuser
/// against the test's own model (<see cref="AttackKit.AssertLegalHistory"/>) and the transitions table's 14 rows.
/// </summary>
public sealed class PrivilegeAttackTests(HostileGrantsDatabase db) : IClassFixture<HostileGrantsDatabase>
{
    public enum Attack
    {
        ForgeAuditRow,
        ForgeAuditRowOverridingId,
        ForgeAuditRowsFromSelect,
        MoveDonorHistoryToTarget,
        RewriteAuditState,
        DeleteAudit,
        TruncateAudit,
        AddTransitionRule,
        RetargetTransitionRule,
        ReplaceTransitionRules,
        TruncateTransitionRules,
        AttachUpdateFunctionToOwnTable,
        OwnTriggerOnTable,
        OwnTriggerOnAudit,
        DisableUpdateTrigger,
        DisableAllTriggers,
        DisableAuditTriggers,
        ReplicaSessionRole,
        ReplaceTriggerFunction,
    }

    public sealed record Case(Attack Attack, string Payoff, bool FromTerminal)
    {
        public override string ToString() => $"{Attack} then {(FromTerminal ? "REJECTED" : "OFFER")} -> {Payoff}";
    }

    public static class Cases
    {
        public static Arbitrary<Case> Arb() =>
            (from attack in Gen.Elements(Enum.GetValues<Attack>())
             from payoff in Gen.Elements(Joined, LeftCompany, Applied, Interview)
             from terminal in Gen.Elements(false, false, true)
             select new Case(attack, payoff, terminal)).ToArbitrary();
    }

    [Property(MaxTest = 120, Arbitrary = [typeof(Cases)])]
    public void App_role_with_broad_grants_cannot_forge_history_rules_or_triggers(Case c)
    {
        using var scene = AttackScene.Open(db);
        var (admin, app) = (scene.Admin, scene.App);
        var id = scene.Row(c.FromTerminal ? [Rejected] : [Screening, Offer]); // fast track: never interviewed
        var donor = scene.Row([Screening, Interview, Offer, Joined]);
        var donorHistory = AttackKit.History(admin, donor);
        var where = $"{c} on row {id}";
        var fn = "evil_" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            foreach (var sql in Statements(c, id, donor, fn))
            {
                AttackKit.Try(app, sql, id); // each may fail; the oracle below judges the outcome
            }

            // The payoff: the illegal move, then a permitted one (which a planted trigger could redirect).
            AttackKit.Move(app, id, c.Payoff);
            AttackKit.Move(app, id, Withdrawn);
        }
        finally
        {
            // Planted objects survive the connection; the owner removes them so the next case starts clean.
            AttackKit.Try(admin, $"DROP TRIGGER IF EXISTS zz_{fn} ON public.candidates; DROP TRIGGER IF EXISTS zz_{fn} ON public.candidates_audit; DROP FUNCTION IF EXISTS public.{fn}() CASCADE;");
            AttackKit.Try(admin, "RESET session_replication_role");
        }

        AttackKit.AssertLegalHistory(admin, id, where);
        Assert.Equal(donorHistory, AttackKit.History(admin, donor));
        Assert.True(AttackKit.TransitionsTable(admin).SequenceEqual(AttackKit.TransitionRows), $"{where}: the transitions table changed: {string.Join(", ", AttackKit.TransitionsTable(admin))}");
        using var trig = new NpgsqlCommand("SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('public.candidates'::regclass, 'public.candidates_audit'::regclass) AND NOT tgisinternal AND tgenabled = 'D'", admin);
        Assert.True((long)trig.ExecuteScalar()! == 0, $"{where}: a trigger was disabled");
    }

    private static IEnumerable<string> Statements(Case c, long id, long donor, string fn)
    {
        const string Cols = "INSERT INTO public.candidates_audit (entity_id, from_state, to_state, trigger, actor_id, actor_kind, reason, is_terminal)";
        var steps = new[] { "'SCREENING', 'INTERVIEW', 'interview'", "'INTERVIEW', 'OFFER', 'make_offer'", "'OFFER', 'JOINED', 'hire'", "'JOINED', 'LEFT_COMPANY', 'leave'" };
        switch (c.Attack)
        {
            case Attack.ForgeAuditRow:
                foreach (var s in steps)
                {
                    yield return $"{Cols} VALUES (@id::text, {s}, 'x', 'USER', 'forged', false)";
                }

                break;
            case Attack.ForgeAuditRowOverridingId:
                yield return $"INSERT INTO public.candidates_audit (id, entity_id, from_state, to_state, trigger, actor_id, actor_kind, reason, is_terminal) OVERRIDING SYSTEM VALUE VALUES (-@id, @id::text, 'SCREENING', 'INTERVIEW', 'interview', 'x', 'USER', 'forged', false)";
                break;
            case Attack.ForgeAuditRowsFromSelect:
                yield return $"{Cols} SELECT @id::text, from_state, to_state, trigger, actor_id, actor_kind, 'forged', is_terminal FROM public.candidates_audit WHERE entity_id = '{donor}'";
                break;
            case Attack.MoveDonorHistoryToTarget:
                yield return $"UPDATE public.candidates_audit SET entity_id = @id::text WHERE entity_id = '{donor}'";
                break;
            case Attack.RewriteAuditState:
                yield return "UPDATE public.candidates_audit SET to_state = 'INTERVIEW', trigger = 'interview' WHERE entity_id = @id::text";
                break;
            case Attack.DeleteAudit:
                yield return "DELETE FROM public.candidates_audit WHERE entity_id = @id::text";
                break;
            case Attack.TruncateAudit:
                yield return "TRUNCATE public.candidates_audit";
                break;
            case Attack.AddTransitionRule:
                yield return "INSERT INTO public.candidates_transitions VALUES ('OFFER', 'LEFT_COMPANY', 'leave'), ('REJECTED', 'APPLIED', 'reopen'), ('OFFER', 'INTERVIEW', 'interview')";
                break;
            case Attack.RetargetTransitionRule:
                yield return $"UPDATE public.candidates_transitions SET to_state = '{c.Payoff}' WHERE to_state = 'WITHDRAWN'";
                break;
            case Attack.ReplaceTransitionRules:
                yield return "DELETE FROM public.candidates_transitions";
                yield return $"INSERT INTO public.candidates_transitions VALUES ('OFFER', '{c.Payoff}', 'x'), ('REJECTED', '{c.Payoff}', 'x')";
                break;
            case Attack.TruncateTransitionRules:
                yield return "TRUNCATE public.candidates_transitions";
                yield return $"INSERT INTO public.candidates_transitions VALUES ('OFFER', '{c.Payoff}', 'x')";
                break;
            case Attack.AttachUpdateFunctionToOwnTable:
                // A table of its own with the same name and columns, firing the owner's SECURITY DEFINER function: it
                // would write audit rows for the real id.
                yield return "CREATE TEMP TABLE candidates (id bigint, status text, is_blacklisted boolean, expected_salary integer, offer_signed boolean)";
                yield return "CREATE TRIGGER candidates_fsm_update BEFORE UPDATE ON pg_temp.candidates FOR EACH ROW EXECUTE FUNCTION public.candidates_fsm_update()";
                yield return "INSERT INTO pg_temp.candidates VALUES (@id, 'SCREENING', false, 1, true)";
                foreach (var s in new[] { Interview, Offer, Joined })
                {
                    yield return $"BEGIN; SELECT set_config('app.actor_id', 'x', true), set_config('app.actor_kind', 'USER', true), set_config('app.reason', 'forged', true); {CandidateSql.BindContextSql}; UPDATE pg_temp.candidates SET status = '{s}'; COMMIT";
                }

                break;
            case Attack.OwnTriggerOnTable:
                // Fires after the generated trigger (name sorts later) and rewrites the row it approved.
                yield return $"CREATE FUNCTION public.{fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = {id} THEN NEW.status := '{c.Payoff}'; NEW.is_blacklisted := {(c.Payoff == LeftCompany ? "true" : "false")}; END IF; RETURN NEW; END $$";
                yield return $"CREATE TRIGGER zz_{fn} BEFORE UPDATE ON public.candidates FOR EACH ROW EXECUTE FUNCTION public.{fn}()";
                break;
            case Attack.OwnTriggerOnAudit:
                // Would run as the owner inside the generated SECURITY DEFINER function.
                yield return $"CREATE FUNCTION public.{fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.reason <> 'forged' THEN {Cols} VALUES ('{id}', 'SCREENING', 'INTERVIEW', 'interview', 'x', 'USER', 'forged', false); END IF; RETURN NEW; END $$";
                yield return $"CREATE TRIGGER zz_{fn} BEFORE INSERT ON public.candidates_audit FOR EACH ROW EXECUTE FUNCTION public.{fn}()";
                break;
            case Attack.DisableUpdateTrigger:
                yield return "ALTER TABLE public.candidates DISABLE TRIGGER candidates_fsm_update";
                break;
            case Attack.DisableAllTriggers:
                yield return "ALTER TABLE public.candidates DISABLE TRIGGER USER";
                yield return "ALTER TABLE public.candidates_audit DISABLE TRIGGER ALL";
                break;
            case Attack.DisableAuditTriggers:
                yield return "ALTER TABLE public.candidates_audit DISABLE TRIGGER USER";
                yield return $"{Cols} VALUES (@id::text, 'SCREENING', 'INTERVIEW', 'interview', 'x', 'USER', 'forged', false)";
                break;
            case Attack.ReplicaSessionRole:
                yield return "SET session_replication_role = replica";
                yield return $"{Cols} VALUES (@id::text, 'SCREENING', 'INTERVIEW', 'interview', 'x', 'USER', 'forged', false)";
                break;
            case Attack.ReplaceTriggerFunction:
                yield return "CREATE OR REPLACE FUNCTION public.candidates_fsm_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$";
                yield return "ALTER FUNCTION public.candidates_fsm_update() SECURITY INVOKER";
                break;
        }
    }
}
