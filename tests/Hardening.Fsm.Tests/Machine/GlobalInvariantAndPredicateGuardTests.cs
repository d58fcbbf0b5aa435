namespace Hardening.Fsm.Tests.Machine;

/// <summary>Machine-wide invariants and C#-only guards (<c>Func</c> predicates) when transitions are fired.</summary>
public sealed class GlobalInvariantAndPredicateGuardTests
{
    private static readonly Actor Agent = Actor.User("agent-1");

    public sealed class Ticket : StatefulEntity
    {
        public Ticket()
            : base("OPEN")
        {
        }

        public int Points { get; set; }

        public bool Approved { get; set; }

        public bool Archived { get; private set; }
    }

    private static StateMachine<Ticket> Build()
    {
        var b = new StateMachineBuilder<Ticket>("ticket", _ => "t-1");
        var points = b.Field(t => t.Points, "points");
        var archived = b.ProtectedField(t => t.Archived, "archived");
        b.InitialState("OPEN");
        b.Invariant("points_not_negative", points.GreaterThanOrEqualTo(0));
        b.Configure("OPEN").Permit("start", "DOING").Guard("approved", t => t.Approved);
        b.Configure("DOING").Permit("finish", "DONE");
        b.Configure("DONE").Terminal().OnEntrySet(archived, true).Invariant("done_is_archived", archived.IsTrue());
        return b.Build();
    }

    [Fact]
    public void A_machine_wide_invariant_is_checked_in_every_state()
    {
        var m = Build();
        var t = new Ticket { Points = -1 };
        Assert.Equal(["points_not_negative"], m.CheckInvariants(t));

        t.Points = 3;
        t.Approved = true;
        Assert.True(m.TryFire(t, "start", Agent, "picked up", "OPEN").Accepted);
        t.Points = -2;
        Assert.Equal(["points_not_negative"], m.CheckInvariants(t));
    }

    [Fact]
    public void A_transition_into_a_state_that_would_break_a_machine_wide_invariant_is_rejected()
    {
        var m = Build();
        var t = new Ticket { Points = 3, Approved = true };
        Assert.True(m.TryFire(t, "start", Agent, "picked up", "OPEN").Accepted);
        t.Points = -1;

        var r = m.TryFire(t, "finish", Agent, "done", "DOING");

        Assert.Equal(TransitionResult.Reject(RejectionReason.InvariantWouldBreak, "DOING", "finish", "points_not_negative"), r);
        Assert.Equal(("DOING", false), (t.State, t.Archived));
    }

    [Fact]
    public void A_predicate_guard_decides_the_transition()
    {
        var m = Build();
        var t = new Ticket();

        Assert.Equal(TransitionResult.Reject(RejectionReason.GuardFailed, "OPEN", "start", "approved"), m.TryFire(t, "start", Agent, "picked up", "OPEN"));

        t.Approved = true;
        var r = m.TryFire(t, "start", Agent, "picked up", "OPEN");
        Assert.True(r.Accepted, r.ToString());
        Assert.Equal("DOING", t.State);
    }
}
