using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>An account whose protected fields cover every supported type; OPEN sets a limit on entry.</summary>
public sealed class Ledger : StatefulEntity
{
    public Ledger(long id)
        : base("OPEN") => Id = id;

    public long Id { get; }

    public bool Frozen { get; private set; }

    public int Strikes { get; private set; }

    public string? ClosedReason { get; private set; }

    public Guid? ClosedBy { get; private set; }

    public decimal? Cap { get; private set; }

    public long Limit { get; private set; }
}

/// <summary>A database with the ledgers table and its generated enforcement.</summary>
public sealed class LedgerDatabase : IAsyncLifetime
{
    public static readonly Guid Closer = new("5b0c1d2e-0000-4000-8000-000000000001");

    public PostgresServer Server { get; private set; } = null!;

    public string Database { get; private set; } = null!;

    public static StateMachine<Ledger> Build()
    {
        var b = new StateMachineBuilder<Ledger>("ledger", l => l.Id.ToString(CultureInfo.InvariantCulture));
        var frozen = b.ProtectedField(l => l.Frozen, "frozen");
        var strikes = b.ProtectedField(l => l.Strikes, "strikes");
        var reason = b.ProtectedField(l => l.ClosedReason, "closed_reason");
        var by = b.ProtectedField(l => l.ClosedBy, "closed_by");
        var cap = b.ProtectedField(l => l.Cap, "cap");
        var limit = b.ProtectedField(l => l.Limit, "limit_amount");
        b.InitialState("OPEN");
        b.Configure("OPEN").OnEntrySet(limit, 100L).Permit("freeze", "FROZEN").Permit("close", "CLOSED");
        b.Configure("FROZEN").OnEntrySet(frozen, true).OnEntrySet(strikes, 3).OnEntrySet(cap, 0.5m).Permit("unfreeze", "OPEN").Permit("close", "CLOSED");
        b.Configure("CLOSED").Terminal().OnEntrySet(reason, "closed").OnEntrySet(by, (Guid?)Closer);
        return b.Build();
    }

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.Shared;
        Database = await Server.CreateDatabaseAsync("fsm_ledger");
        await Server.ExecuteAsync("""
            CREATE TABLE public.ledgers (
                id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'OPEN', frozen boolean NOT NULL DEFAULT false,
                strikes integer NOT NULL DEFAULT 0, closed_reason text, closed_by uuid, cap numeric, limit_amount bigint NOT NULL DEFAULT 100);
            """, Database);
        await Server.ExecuteAsync(Build().ToPostgresSql(new PostgresTableMapping("public", "ledgers") { ApplicationRole = PostgresServer.AppRole }), Database);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// A new row with protected fields preset (a candidate inserted already blacklisted): for each protected field of
/// each type, the initial value and other values, alone or together. Oracle: the test's own table of initial values
/// (OPEN's entry effect for the limit, the type's default otherwise); PostgreSQL keeps the row only when all match.
/// </summary>
public sealed class InsertPresetTests(LedgerDatabase db, CandidateDatabase candidates) : IClassFixture<LedgerDatabase>, IClassFixture<CandidateDatabase>
{
    // column, SQL values to try; the first is the initial value.
    private static readonly (string Column, string[] Values)[] Fields =
    [
        ("frozen", ["false", "true"]),
        ("strikes", ["0", "1", "-1", "3", "2147483647"]),
        ("closed_reason", ["NULL", "''", "'closed'", "'NULL'"]),
        ("closed_by", ["NULL", "'00000000-0000-0000-0000-000000000000'", $"'{LedgerDatabase.Closer}'"]),
        ("cap", ["NULL", "0", "0.5", "-1"]),
        ("limit_amount", ["100", "0", "101", "100000"]),
    ];

    public sealed record Preset((int Field, int Value)[] Columns, bool Upsert)
    {
        public override string ToString() => string.Join(", ", Columns.Select(c => $"{Fields[c.Field].Column}={Fields[c.Field].Values[c.Value]}")) + (Upsert ? " (upsert)" : "");
    }

    public static class Cases
    {
        public static Arbitrary<Preset> Arb() =>
            (from n in Gen.Choose(1, 3)
             from cols in Gen.ArrayOf(Gen.Choose(0, Fields.Length - 1).SelectMany(f => Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(1, Fields[f].Values.Length - 1))), (f, v) => (f, v)), n)
             from upsert in Gen.Elements(false, true)
             select new Preset([.. cols.DistinctBy(c => c.f)], upsert)).ToArbitrary();

        public static Arbitrary<bool> Flags() => Gen.Elements(true, false).ToArbitrary();
    }

    [Property(MaxTest = 150, Arbitrary = [typeof(Cases)])]
    public void A_new_row_may_set_protected_fields_only_to_their_initial_values(Preset p)
    {
        using var admin = AttackKit.Open(db.Server.ForDatabase(db.Database));
        using var app = AttackKit.Open(db.Server.ForDatabase(db.Database, PostgresServer.AppRole));
        var id = CandidateSql.NextId();
        var cols = string.Concat(p.Columns.Select(c => ", " + Fields[c.Field].Column));
        var vals = string.Concat(p.Columns.Select(c => ", " + Fields[c.Field].Values[c.Value]));
        var error = AttackKit.Try(app, $"INSERT INTO public.ledgers (id{cols}) VALUES (@id{vals}){(p.Upsert ? " ON CONFLICT (id) DO NOTHING" : "")}", id);

        var initial = p.Columns.All(c => c.Value == 0);
        using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM public.ledgers WHERE id = @id", admin);
        cmd.Parameters.AddWithValue("id", id);
        var stored = (long)cmd.ExecuteScalar()! == 1;
        Assert.True(stored == initial, $"{p}: expected {(initial ? "stored" : "refused")} but {(stored ? "stored" : "refused: " + error?.SqlState + " " + error?.MessageText)}");
        if (!initial)
        {
            Assert.Equal(FsmSqlState.ProtectedFieldChanged, error!.SqlState);
            Assert.Contains(p.Columns.Where(c => c.Value != 0), c => error.MessageText.Contains("protected field " + Fields[c.Field].Column + " ", StringComparison.Ordinal));
        }
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void A_new_candidate_cannot_start_blacklisted(bool blacklisted, bool upsert)
    {
        using var admin = AttackKit.Open(candidates.ConnectionString);
        using var app = AttackKit.Open(candidates.AppConnectionString);
        var id = CandidateSql.NextId();
        AttackKit.Try(app, $"INSERT INTO public.candidates (id, is_blacklisted) VALUES (@id, {(blacklisted ? "true" : "false")}){(upsert ? " ON CONFLICT DO NOTHING" : "")}", id);
        Assert.Equal(blacklisted ? null : ("APPLIED", false), AttackKit.Row(admin, id));
    }
}
