using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Pipeline;
using Hardening.Fsm.Tests.Postgres;
using Npgsql;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Machine;

public sealed class ConcurrencyTests(CandidateDatabase db) : IClassFixture<CandidateDatabase>
{
    /// <summary>Pairs of triggers that are both permitted from the same state.</summary>
    private static readonly (string[] Path, string State, string A, string B)[] Races =
    [
        ([], Applied, "screen", "reject"),
        ([], Applied, "withdraw", "reject"),
        (["screen"], Screening, "interview", "withdraw"),
        (["screen"], Screening, "make_offer", "reject"),
        (["screen", "interview"], Interview, "make_offer", "withdraw"),
        (["screen", "interview", "make_offer"], Offer, "hire", "reject"),
        (["screen", "interview", "make_offer"], Offer, "hire", "hire"),
    ];

    [Property(MaxTest = 150)]
    public Property Exactly_one_of_two_racing_transitions_from_the_same_expected_state_wins()
    {
        var sink = new StateMachineTests.ListSink();
        var machine = Builder().UseAuditSink(sink).Build();
        return Prop.ForAll(Gen.Choose(0, Races.Length - 1).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), (raceIndex, id) =>
        {
            var race = Races[raceIndex];
            var c = new Candidate(id) { ExpectedSalary = 1, OfferSigned = true };
            foreach (var t in race.Path)
            {
                Assert.True(machine.TryFire(c, t, Actor.System("setup"), "setup", c.State).Accepted);
            }

            var versionBefore = c.Version;
            using var start = new Barrier(2);
            TransitionResult Attempt(string trigger)
            {
                start.SignalAndWait();
                return machine.TryFire(c, trigger, Actor.User("u-" + trigger), "race", race.State);
            }

            var a = Task.Run(() => Attempt(race.A));
            var b = Task.Run(() => Attempt(race.B));
            var results = new[] { a.Result, b.Result };

            var winners = results.Where(r => r.Accepted).ToList();
            var winner = Assert.Single(winners);
            var loser = Assert.Single(results, r => !r.Accepted);
            Assert.Equal(RejectionReason.StaleState, loser.Reason);
            Assert.Equal(winner.Record!.To, c.State);
            Assert.Equal(versionBefore + 1, c.Version);
            Assert.Equal(race.State, winner.Record.From);
        });
    }

    [Property(MaxTest = 100)]
    public Property Exactly_one_of_two_racing_updates_from_the_same_expected_status_wins_in_postgres() =>
        Prop.ForAll(Gen.Choose(0, Races.Length - 2).ToArbitrary(), raceIndex =>
        {
            using var c1 = new NpgsqlConnection(db.ConnectionString);
            using var c2 = new NpgsqlConnection(db.ConnectionString);
            c1.Open();
            c2.Open();
            var race = Races[raceIndex];
            var id = CandidateSql.NextId();
            CandidateSql.InsertAsync(c1, id).GetAwaiter().GetResult();
            var path = new List<string>();
            foreach (var t in race.Path)
            {
                path.Add(TriggerTargets[t]);
            }

            CandidateSql.MoveAsync(c1, id, [.. path]).GetAwaiter().GetResult();
            using var start = new Barrier(2);
            int Attempt(NpgsqlConnection conn, string trigger)
            {
                start.SignalAndWait();
                return CandidateSql.InTransactionAsync(conn, $"UPDATE public.candidates SET status = '{TriggerTargets[trigger]}' WHERE id = @id AND status = '{race.State}'", id, "u-" + trigger).GetAwaiter().GetResult();
            }

            var a = Task.Run(() => Attempt(c1, race.A));
            var b = Task.Run(() => Attempt(c2, race.B));
            Assert.Equal(1, a.Result + b.Result);
            Assert.Equal(race.Path.Length + 1L, CandidateSql.ScalarAsync<long>(c1, "SELECT count(*) FROM public.candidates_audit WHERE entity_id = @id::text", id).GetAwaiter().GetResult());
        });
}
