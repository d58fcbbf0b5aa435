using Hardening.Fsm.Tests.Pipeline;
using Npgsql;
using static Hardening.Fsm.Tests.Postgres.CandidateSql;

namespace Hardening.Fsm.Tests.Postgres;

public sealed class PostgresEnforcementTests(CandidateDatabase db) : IClassFixture<CandidateDatabase>
{
    private const string ToLeft = "UPDATE public.candidates SET status = 'LEFT_COMPANY' WHERE id = @id";

    private static async Task<PostgresException> FailsAsync(Task task) => await Assert.ThrowsAsync<PostgresException>(() => task);

    private async Task<(NpgsqlConnection Conn, long Id)> CandidateInAsync(params string[] path)
    {
        var conn = await db.OpenAsync();
        var id = NextId();
        await InsertAsync(conn, id);
        await MoveAsync(conn, id, path);
        return (conn, id);
    }

    [Fact]
    public async Task Status_change_without_the_actor_settings_fails_with_HF005()
    {
        var (conn, id) = await CandidateInAsync("SCREENING", "INTERVIEW", "OFFER", "JOINED");
        await using var _ = conn;

        var e = await FailsAsync(InTransactionAsync(conn, ToLeft, id, actorId: null, actorKind: null, reason: null));
        Assert.Equal(FsmSqlState.AuditContextMissing, e.SqlState);
        Assert.Contains("app.actor_id", e.MessageText, StringComparison.Ordinal);

        e = await FailsAsync(InTransactionAsync(conn, ToLeft, id, reason: "   "));
        Assert.Equal(FsmSqlState.AuditContextMissing, e.SqlState);
        Assert.Contains("app.reason", e.MessageText, StringComparison.Ordinal);

        e = await FailsAsync(InTransactionAsync(conn, ToLeft, id, actorKind: "ROBOT"));
        Assert.Equal(FsmSqlState.AuditContextMissing, e.SqlState);
        Assert.Contains("app.actor_kind", e.MessageText, StringComparison.Ordinal);

        Assert.Equal("JOINED", await ScalarAsync<string>(conn, "SELECT status FROM public.candidates WHERE id = @id", id));
    }

    [Fact]
    public async Task Leaving_a_terminal_state_fails_with_HF002()
    {
        var (conn, id) = await CandidateInAsync("REJECTED");
        await using var _ = conn;
        var e = await FailsAsync(InTransactionAsync(conn, ToLeft, id));
        Assert.Equal(FsmSqlState.TerminalState, e.SqlState);
        Assert.Contains("terminal_state", e.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Skipping_joined_fails_with_HF001()
    {
        var (conn, id) = await CandidateInAsync("SCREENING", "INTERVIEW", "OFFER");
        await using var _ = conn;
        var e = await FailsAsync(InTransactionAsync(conn, ToLeft, id));
        Assert.Equal(FsmSqlState.TransitionNotPermitted, e.SqlState);
        Assert.Contains("OFFER -> LEFT_COMPANY", e.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clearing_the_blacklist_flag_of_a_left_company_row_fails_with_HF004()
    {
        var (conn, id) = await CandidateInAsync("SCREENING", "INTERVIEW", "OFFER", "JOINED", "LEFT_COMPANY");
        await using var _ = conn;
        Assert.True(await ScalarAsync<bool>(conn, "SELECT is_blacklisted FROM public.candidates WHERE id = @id", id));

        var e = await FailsAsync(InTransactionAsync(conn, "UPDATE public.candidates SET is_blacklisted = false WHERE id = @id", id));
        Assert.Equal(FsmSqlState.ProtectedFieldChanged, e.SqlState);
        Assert.Contains("is_blacklisted", e.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setting_a_protected_field_along_with_a_transition_fails_with_HF004()
    {
        var (conn, id) = await CandidateInAsync("SCREENING");
        await using var _ = conn;
        var e = await FailsAsync(InTransactionAsync(conn, "UPDATE public.candidates SET status = 'INTERVIEW', is_blacklisted = true WHERE id = @id", id));
        Assert.Equal(FsmSqlState.ProtectedFieldChanged, e.SqlState);
    }

    [Fact]
    public async Task Guard_and_history_and_invariant_failures_carry_their_sqlstate_and_rule()
    {
        await using var conn = await db.OpenAsync();
        var id = NextId();
        await InsertAsync(conn, id, salary: null);
        await MoveAsync(conn, id, "SCREENING", "INTERVIEW");
        var e = await FailsAsync(InTransactionAsync(conn, "UPDATE public.candidates SET status = 'OFFER' WHERE id = @id", id));
        Assert.Equal((FsmSqlState.GuardFailed, true), (e.SqlState, e.MessageText.Contains("has_salary", StringComparison.Ordinal)));

        var fast = NextId();
        await InsertAsync(conn, fast, salary: null);
        await MoveAsync(conn, fast, "SCREENING");
        e = await FailsAsync(InTransactionAsync(conn, "UPDATE public.candidates SET status = 'OFFER' WHERE id = @id", fast));
        Assert.Equal((FsmSqlState.CheckViolation, "candidates_fsm_inv_offer_has_salary"), (e.SqlState, e.ConstraintName));

        await InTransactionAsync(conn, "UPDATE public.candidates SET expected_salary = 1 WHERE id = @id", fast);
        await MoveAsync(conn, fast, "OFFER");
        e = await FailsAsync(InTransactionAsync(conn, "UPDATE public.candidates SET status = 'JOINED' WHERE id = @id", fast));
        Assert.Equal(FsmSqlState.HistoryMissing, e.SqlState);
        Assert.Contains("only after INTERVIEW", e.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inserting_in_a_state_other_than_the_initial_one_fails_with_HF007()
    {
        await using var conn = await db.OpenAsync();
        await using var cmd = new NpgsqlCommand($"INSERT INTO public.candidates (id, status, is_blacklisted) VALUES ({NextId()}, 'JOINED', false)", conn);
        var e = await FailsAsync(cmd.ExecuteNonQueryAsync());
        Assert.Equal(FsmSqlState.NotInitialState, e.SqlState);
    }

    [Fact]
    public async Task Unknown_status_values_fail_the_status_check()
    {
        var (conn, id) = await CandidateInAsync();
        await using var _ = conn;
        var e = await FailsAsync(InTransactionAsync(conn, "UPDATE public.candidates SET status = 'HIRED' WHERE id = @id", id));
        Assert.Equal(FsmSqlState.TransitionNotPermitted, e.SqlState);
        await using var cmd = new NpgsqlCommand("ALTER TABLE public.candidates DISABLE TRIGGER candidates_fsm_update", conn);
        await using var tx = await conn.BeginTransactionAsync();
        cmd.Transaction = tx;
        await cmd.ExecuteNonQueryAsync();
        await using var upd = new NpgsqlCommand($"UPDATE public.candidates SET status = 'HIRED' WHERE id = {id}", conn, tx);
        e = await FailsAsync(upd.ExecuteNonQueryAsync());
        Assert.Equal((FsmSqlState.CheckViolation, "candidates_fsm_status"), (e.SqlState, e.ConstraintName));
        await tx.RollbackAsync();
    }

    [Fact]
    public async Task Audit_rows_record_each_transition_and_cannot_be_changed_or_deleted()
    {
        var (conn, id) = await CandidateInAsync();
        await using var _ = conn;
        await InTransactionAsync(conn, "UPDATE public.candidates SET status = 'SCREENING' WHERE id = @id", id, "job-1", "SYSTEM", "CV parsed");
        await using (var read = new NpgsqlCommand("SELECT from_state, to_state, trigger, actor_id, actor_kind, reason, is_terminal FROM public.candidates_audit WHERE entity_id = @id::text", conn))
        {
            read.Parameters.AddWithValue("id", id);
            await using var r = await read.ExecuteReaderAsync();
            Assert.True(await r.ReadAsync());
            Assert.Equal(("APPLIED", "SCREENING", "screen", "job-1", "SYSTEM", "CV parsed", false),
                (r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetBoolean(6)));
            Assert.False(await r.ReadAsync());
        }

        foreach (var sql in new[] { "UPDATE public.candidates_audit SET reason = 'x' WHERE entity_id = @id::text", "DELETE FROM public.candidates_audit WHERE entity_id = @id::text", "TRUNCATE public.candidates_audit" })
        {
            var e = await FailsAsync(InTransactionAsync(conn, sql.Replace("@id", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), id));
            Assert.Equal(FsmSqlState.AuditIsAppendOnly, e.SqlState);
        }
    }

    [Fact]
    public async Task Application_role_can_move_candidates_but_cannot_write_the_audit_table()
    {
        long id;
        await using (var admin = await db.OpenAsync())
        {
            id = NextId();
            await InsertAsync(admin, id);
        }

        await using var app = await db.OpenAsync(asApp: true);
        Assert.Equal(1, await InTransactionAsync(app, "UPDATE public.candidates SET status = 'SCREENING' WHERE id = @id", id));
        Assert.Equal(1L, await ScalarAsync<long>(app, "SELECT count(*) FROM public.candidates_audit WHERE entity_id = @id::text", id));
        var e = await FailsAsync(InTransactionAsync(app, "INSERT INTO public.candidates_audit (entity_id, from_state, to_state, trigger, actor_id, actor_kind, reason, is_terminal) VALUES (@id::text, 'JOINED', 'LEFT_COMPANY', 'leave', 'x', 'USER', 'forged', true)", id));
        Assert.Equal("42501", e.SqlState); // insufficient_privilege
    }

    [Fact]
    public async Task Generated_functions_pin_search_path_and_the_script_is_idempotent()
    {
        await db.Server.ExecuteAsync(db.Script, db.Database);
        await db.Server.ExecuteAsync(db.Script, db.Database);
        await using var conn = await db.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT proname, array_to_string(proconfig, ',') FROM pg_proc WHERE proname LIKE 'candidates%' ORDER BY proname", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var functions = new List<string>();
        while (await r.ReadAsync())
        {
            functions.Add(r.GetString(0));
            Assert.Equal("search_path=pg_catalog, pg_temp", r.GetString(1));
        }

        Assert.Equal(["candidates_audit_append_only", "candidates_fsm_delete", "candidates_fsm_insert", "candidates_fsm_owner_only", "candidates_fsm_update"], functions);
        await r.CloseAsync();
        Assert.Equal(14L, await ScalarAsync<long>(conn, "SELECT count(*) FROM public.candidates_transitions WHERE @id = @id", 0));
        Assert.Equal(3L, await ScalarAsync<long>(conn, "SELECT count(*) FROM pg_constraint WHERE conname LIKE 'candidates_fsm_%' AND @id = @id", 0));
    }
}
