using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Pipeline;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// <see cref="PostgresTableMapping.LoadVisitedStatesAsync"/> on random legal walks, as the application role: the states
/// come back in the order first entered (oracle: the walk itself), and a candidate loaded with them gets the same
/// history decision from TryFire as the database trigger gives.
/// </summary>
public sealed class VisitedStatesTests(CandidateDatabase db) : IClassFixture<CandidateDatabase>
{
    public static class Walks
    {
        public static Arbitrary<int[]> Arb() => AttackKit.Walks(0, 7).ToArbitrary();
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Walks)])]
    public void Visited_states_load_from_the_audit_table_in_order_and_decide_history_like_the_trigger(int[] choices)
    {
        using var app = AttackKit.Open(db.AppConnectionString);
        var id = CandidateSql.NextId();
        var walk = AttackKit.Walk(choices);
        AttackKit.Insert(app, id);
        AttackKit.MoveAll(app, id, walk);

        var visited = CandidatePipeline.Table.LoadVisitedStatesAsync(app, id.ToString(CultureInfo.InvariantCulture)).GetAwaiter().GetResult();
        var expected = walk.Count == 0 ? [] : new[] { CandidatePipeline.Applied }.Concat(walk).Distinct().ToList();
        Assert.Equal(expected, visited);

        var state = walk.LastOrDefault() ?? CandidatePipeline.Applied;
        if (state != CandidatePipeline.Offer)
        {
            return;
        }

        // OFFER -> JOINED needs INTERVIEW: both sides must decide the same from the loaded history.
        var candidate = Candidate.Load(id, state, blacklisted: false, salary: 50_000, signed: true, version: walk.Count, visited: visited);
        var result = CandidatePipeline.Build().TryFire(candidate, "hire", Actor.User("recruiter-7"), "signed", state);
        var error = AttackKit.Move(app, id, CandidatePipeline.Joined);
        Assert.Equal(result.Accepted, error is null);
        Assert.Equal(walk.Contains(CandidatePipeline.Interview), result.Accepted);
    }
}
