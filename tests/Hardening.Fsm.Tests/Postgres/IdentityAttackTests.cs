using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// Escaping a row's state or history by changing its identity: deleting it (every statement that removes rows) and
/// inserting it again, reusing the id of a row the owner removed, or moving ids so a row borrows another's history.
/// Run against the broad grants of <see cref="HostileGrantsDatabase"/>; oracle: the rows and audit history as the
/// superuser reads them, against the test's own model.
/// </summary>
public sealed class IdentityAttackTests(HostileGrantsDatabase db) : IClassFixture<HostileGrantsDatabase>
{
    public enum Removal
    {
        Delete,
        DeleteUsing,
        DeleteReturning,
        MergeDelete,
        Truncate,
        TruncateOnlyCascade,
    }

    public enum Reinsert
    {
        None,
        IdOnly,
        InitialStateExplicit,
        Upsert,
    }

    public enum IdMove
    {
        ToFreshId,
        ToFreshIdWithTransition,
        SwapWithOther,
        ShiftBoth,
        UpsertMovesId,
        ToIdTheOwnerRemoved,
    }

    public sealed record RemovalCase(int[] Walk, Removal How, Reinsert Then);

    public sealed record ReuseCase(int[] Walk, Reinsert How);

    public sealed record MoveCase(int[] Walk, int[] OtherWalk, IdMove How);

    public static class Cases
    {
        public static Arbitrary<RemovalCase> Removals() =>
            (from walk in AttackKit.Walks(0, 6)
             from how in Gen.Elements(Enum.GetValues<Removal>())
             from then in Gen.Elements(Enum.GetValues<Reinsert>())
             select new RemovalCase(walk, how, then)).ToArbitrary();

        public static Arbitrary<ReuseCase> Reuses() =>
            (from walk in AttackKit.Walks(1, 6)
             from how in Gen.Elements(Reinsert.IdOnly, Reinsert.InitialStateExplicit, Reinsert.Upsert)
             select new ReuseCase(walk, how)).ToArbitrary();

        public static Arbitrary<MoveCase> Moves() =>
            (from walk in AttackKit.Walks(0, 6)
             from other in AttackKit.Walks(0, 6)
             from how in Gen.Elements(Enum.GetValues<IdMove>())
             select new MoveCase(walk, other, how)).ToArbitrary();
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void A_tracked_row_cannot_be_deleted_or_truncated_and_come_back(RemovalCase c)
    {
        using var scene = AttackScene.Open(db);
        var (admin, app) = (scene.Admin, scene.App);
        var id = scene.Row(AttackKit.Walk(c.Walk));
        var row = AttackKit.Row(admin, id);
        var history = AttackKit.History(admin, id);

        AttackKit.Try(app, c.How switch
        {
            Removal.Delete => "DELETE FROM public.candidates WHERE id = @id",
            Removal.DeleteUsing => "DELETE FROM public.candidates c USING (SELECT @id AS id) s WHERE c.id = s.id",
            Removal.DeleteReturning => "DELETE FROM public.candidates WHERE id = @id RETURNING *",
            Removal.MergeDelete => "MERGE INTO public.candidates c USING (SELECT @id AS id) s ON c.id = s.id WHEN MATCHED THEN DELETE",
            Removal.Truncate => "TRUNCATE public.candidates",
            _ => "TRUNCATE ONLY public.candidates CASCADE",
        }, id);
        AttackKit.Try(app, ReinsertSql(c.Then), id);

        Assert.Equal(row, AttackKit.Row(admin, id));
        Assert.Equal(history, AttackKit.History(admin, id));
        AttackKit.AssertLegalHistory(admin, id, $"{c.How} then {c.Then} of row {id}");
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void An_id_with_history_is_never_reused_after_the_owner_removes_its_row(ReuseCase c)
    {
        using var scene = AttackScene.Open(db);
        var (admin, app) = (scene.Admin, scene.App);
        var id = scene.Row(AttackKit.Walk(c.Walk));

        // An erasure in a maintenance window, with the owner's triggers switched off for that transaction.
        Assert.Null(AttackKit.Try(admin, "BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM public.candidates WHERE id = @id; COMMIT", id));
        AttackKit.Try(app, ReinsertSql(c.How), id);

        Assert.True(AttackKit.Row(admin, id) is null, $"row {id} came back through {c.How} with its old history [{string.Join(", ", AttackKit.History(admin, id))}]");
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void Ids_are_immutable_so_history_never_moves_between_rows(MoveCase c)
    {
        using var scene = AttackScene.Open(db);
        var (admin, app) = (scene.Admin, scene.App);
        var walk = AttackKit.Walk(c.Walk);
        var (a, b, fresh) = (scene.Row(walk), scene.Row(AttackKit.Walk(c.OtherWalk)), CandidateSql.NextId());
        if (c.How == IdMove.ToIdTheOwnerRemoved)
        {
            Assert.Null(AttackKit.Try(admin, "BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM public.candidates WHERE id = @id; COMMIT", b));
        }

        var before = (A: AttackKit.Row(admin, a), B: AttackKit.Row(admin, b), HA: AttackKit.History(admin, a), HB: AttackKit.History(admin, b));
        var next = AttackKit.Edges.GetValueOrDefault(walk.LastOrDefault() ?? Applied)?.FirstOrDefault(s => s != Joined) ?? Withdrawn;
        var sql = c.How switch
        {
            IdMove.ToFreshId => $"UPDATE public.candidates SET id = {fresh} WHERE id = {a}",
            IdMove.ToFreshIdWithTransition => $"BEGIN; SELECT set_config('app.actor_id', 'x', true), set_config('app.actor_kind', 'USER', true), set_config('app.reason', 'r', true); {CandidateSql.BindContextSql}; UPDATE public.candidates SET id = {fresh}, status = '{next}' WHERE id = {a}; COMMIT",
            IdMove.SwapWithOther => $"BEGIN; UPDATE public.candidates SET id = {fresh} WHERE id = {a}; UPDATE public.candidates SET id = {a} WHERE id = {b}; UPDATE public.candidates SET id = {b} WHERE id = {fresh}; COMMIT",
            IdMove.ShiftBoth => $"UPDATE public.candidates SET id = CASE id WHEN {a} THEN {b} ELSE {a} END WHERE id IN ({a}, {b})",
            IdMove.UpsertMovesId => $"INSERT INTO public.candidates (id) VALUES ({a}) ON CONFLICT (id) DO UPDATE SET id = {fresh}",
            _ => $"UPDATE public.candidates SET id = {b} WHERE id = {a}",
        };
        AttackKit.Try(app, sql);

        var where = $"{c.How} with rows {a} ({string.Join(">", walk)}) and {b}";
        Assert.True(before.A == AttackKit.Row(admin, a) && before.B == AttackKit.Row(admin, b), $"{where}: a row moved: {AttackKit.Row(admin, a)}, {AttackKit.Row(admin, b)}");
        Assert.Equal(before.HA, AttackKit.History(admin, a));
        Assert.Equal(before.HB, AttackKit.History(admin, b));
        Assert.True(AttackKit.Row(admin, fresh) is null, $"{where}: row {fresh} appeared");
        AttackKit.AssertLegalHistory(admin, a, where);
    }

    private static string ReinsertSql(Reinsert how) => how switch
    {
        Reinsert.None => "SELECT 1",
        Reinsert.IdOnly => "INSERT INTO public.candidates (id) VALUES (@id)",
        Reinsert.InitialStateExplicit => "INSERT INTO public.candidates (id, status, is_blacklisted, expected_salary, offer_signed) VALUES (@id, 'APPLIED', false, 1, true)",
        _ => "INSERT INTO public.candidates (id) VALUES (@id) ON CONFLICT (id) DO NOTHING",
    };
}
