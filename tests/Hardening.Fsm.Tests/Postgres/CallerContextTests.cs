using System.Globalization;
using Hardening.Fsm.Tests.Pipeline;
using Npgsql;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// <see cref="PostgresTableMapping.LoadVisitedStatesAsync"/> never resumes on the caller's
/// <see cref="SynchronizationContext"/> (a caller that blocks on it would deadlock). PostgreSQL is reached through a
/// slow link (each reply held 5 ms), so the read really waits.
/// </summary>
public sealed class CallerContextTests(CandidateDatabase db) : IClassFixture<CandidateDatabase>
{
    [Fact]
    public async Task Loading_visited_states_does_not_resume_on_the_callers_context()
    {
        var id = CandidateSql.NextId();
        var walk = AttackKit.Walk([0, 0, 0]);
        using (var app = AttackKit.Open(db.AppConnectionString))
        {
            AttackKit.Insert(app, id);
            AttackKit.MoveAll(app, id, walk);
        }

        await using var proxy = RoundTripProxy.Start(db.Server.Host, db.Server.Port, TimeSpan.FromMilliseconds(5));
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.AppConnectionString) { Port = proxy.Port }.ConnectionString);
        await connection.OpenAsync();
        var context = new CallerContext();

        var visited = await context.Value(() => CandidatePipeline.Table.LoadVisitedStatesAsync(connection, id.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(new[] { CandidatePipeline.Applied }.Concat(walk).Distinct(), visited);
        Assert.Equal(0, context.Posts);
    }
}
