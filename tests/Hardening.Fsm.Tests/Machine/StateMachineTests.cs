using System.Collections.Concurrent;
using Hardening.Fsm.Tests.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Machine;

public sealed class StateMachineTests
{
    private static readonly Actor Recruiter = Actor.User("recruiter-7");

    private static Candidate MoveTo(StateMachine<Candidate> m, Candidate c, params string[] triggers)
    {
        foreach (var t in triggers)
        {
            var r = m.TryFire(c, t, Recruiter, "step", c.State);
            Assert.True(r.Accepted, r.ToString());
        }

        return c;
    }

    [Fact]
    public void Accepted_transition_returns_the_audit_record_and_changes_state_version_and_history()
    {
        var clock = new FakeTimeProvider();
        var sink = new ListSink();
        var m = Builder().UseTimeProvider(clock).UseAuditSink(sink).Build();
        var c = new Candidate(42);

        var r = m.TryFire(c, "screen", Actor.System("importer"), "CV parsed", Applied);

        Assert.True(r.Accepted);
        Assert.Equal(RejectionReason.None, r.Reason);
        var rec = r.Record!;
        Assert.Equal(("candidate", "42", Applied, Screening, "screen", "importer", ActorKind.System, "CV parsed", clock.GetUtcNow(), false, 1L),
            (rec.Machine, rec.EntityId, rec.From, rec.To, rec.Trigger, rec.ActorId, rec.ActorKind, rec.Reason, rec.OccurredAt, rec.IsTerminal, rec.Version));
        Assert.Equal("candidate 42: APPLIED -> SCREENING (screen) by SYSTEM importer: CV parsed", rec.ToString());
        Assert.Equal(rec.ToString(), r.ToString());
        Assert.Same(rec, Assert.Single(sink.Records));
        Assert.Equal(Screening, c.State);
        Assert.Equal(1, c.Version);
        Assert.Equal([Applied, Screening], c.VisitedStates);
    }

    [Fact]
    public void Entering_left_company_sets_the_protected_blacklist_flag_and_is_terminal()
    {
        var m = Build();
        var c = MoveTo(m, new Candidate(1) { ExpectedSalary = 50_000, OfferSigned = true }, "screen", "interview", "make_offer", "hire");
        Assert.False(c.IsBlacklisted);

        var r = m.TryFire(c, "leave", Recruiter, "Resigned; gross misconduct", Joined);

        Assert.True(r.Accepted);
        Assert.True(r.Record!.IsTerminal);
        Assert.True(c.IsBlacklisted);
        Assert.Empty(m.CheckInvariants(c));
    }

    public static TheoryData<string, string[], string, RejectionReason, string?> Rejections => new()
    {
        { "not permitted", [], "hire", RejectionReason.NotPermitted, null },
        { "unknown trigger", [], "promote", RejectionReason.NotPermitted, null },
        { "terminal", ["reject"], "screen", RejectionReason.Terminal, null },
        { "guard", ["screen", "interview"], "make_offer", RejectionReason.GuardFailed, "has_salary" },
        { "history", ["screen", "make_offer"], "hire", RejectionReason.HistoryMissing, Interview },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Rejected_attempt_changes_nothing_and_names_the_reason(string because, string[] setup, string trigger, RejectionReason expected, string? detail)
    {
        var m = Build();
        var c = new Candidate(7) { OfferSigned = true };
        if (setup.Contains("make_offer"))
        {
            c.ExpectedSalary = 1;
        }

        MoveTo(m, c, setup);
        var before = (c.State, c.Version, c.IsBlacklisted, c.VisitedStates.Count);

        var r = m.TryFire(c, trigger, Recruiter, "because " + because, c.State);

        Assert.False(r.Accepted);
        Assert.Null(r.Record);
        Assert.Equal(expected, r.Reason);
        Assert.Equal(detail, r.Detail);
        Assert.Equal(before, (c.State, c.Version, c.IsBlacklisted, c.VisitedStates.Count));
        Assert.Contains(trigger, r.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entering_offer_without_salary_is_rejected_by_the_offer_invariant()
    {
        var m = Build();
        var c = MoveTo(m, new Candidate(3), "screen");

        var r = m.TryFire(c, "make_offer", Recruiter, "fast track", Screening);

        Assert.Equal(RejectionReason.InvariantWouldBreak, r.Reason);
        Assert.Equal("offer_has_salary", r.Detail);
        Assert.Equal(Screening, c.State);
    }

    [Theory]
    [InlineData("", "reason", RejectionReason.ActorMissing)]
    [InlineData("  ", "reason", RejectionReason.ActorMissing)]
    [InlineData("u1", "", RejectionReason.ReasonMissing)]
    [InlineData("u1", " \t", RejectionReason.ReasonMissing)]
    public void Actor_and_reason_are_required(string actorId, string reason, RejectionReason expected)
    {
        var m = Build();
        var c = new Candidate(1);
        var r = m.TryFire(c, "screen", Actor.User(actorId), reason, Applied);
        Assert.Equal(expected, r.Reason);
        Assert.Equal(Applied, c.State);
    }

    [Fact]
    public void Stale_expected_state_is_rejected()
    {
        var m = Build();
        var c = MoveTo(m, new Candidate(1), "screen");
        var r = m.TryFire(c, "reject", Recruiter, "late click", Applied);
        Assert.Equal(RejectionReason.StaleState, r.Reason);
        Assert.Equal(Screening, c.State);
    }

    [Fact]
    public void Invalid_arguments_throw_instead_of_being_rejected()
    {
        var m = Build();
        Assert.Equal("entity", Assert.Throws<ArgumentNullException>(() => m.TryFire(null!, "screen", Recruiter, "r", Applied)).ParamName);
        Assert.Equal("trigger", Assert.Throws<ArgumentNullException>(() => m.TryFire(new Candidate(1), null!, Recruiter, "r", Applied)).ParamName);
        Assert.Equal("expectedState", Assert.Throws<ArgumentNullException>(() => m.TryFire(new Candidate(1), "screen", Recruiter, "r", null!)).ParamName);
        Assert.Equal("entity", Assert.Throws<ArgumentNullException>(() => m.CheckInvariants(null!)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => m.PermittedTriggers(null!)).ParamName);
        Assert.Equal("mapping", Assert.Throws<ArgumentNullException>(() => m.ToPostgresSql(null!)).ParamName);
    }

    [Fact]
    public void An_entity_in_a_state_the_machine_does_not_know_is_refused_and_reported()
    {
        // A stored status the definition no longer has (renamed or removed state): no transition, and the check says why.
        var m = Build();
        var c = Candidate.Load(1, "ARCHIVED", false, null, false, 9);

        var r = m.TryFire(c, "screen", Recruiter, "r", "ARCHIVED");

        Assert.Equal(TransitionResult.Reject(RejectionReason.NotPermitted, "ARCHIVED", "screen"), r);
        Assert.Equal("Trigger 'screen' is not permitted in state 'ARCHIVED'.", r.Message);
        Assert.Equal(("ARCHIVED", 9L), (c.State, c.Version));
        Assert.Equal(["unknown state 'ARCHIVED'"], m.CheckInvariants(c));
        Assert.Empty(m.PermittedTriggers("ARCHIVED"));
    }

    [Fact]
    public void A_throwing_audit_sink_cancels_the_transition()
    {
        var m = Builder().UseAuditSink(new ThrowingSink()).Build();
        var c = new Candidate(1);
        Assert.Throws<InvalidOperationException>(() => m.TryFire(c, "screen", Recruiter, "r", Applied));
        Assert.Equal((Applied, 0L), (c.State, c.Version));
        Assert.Equal([Applied], c.VisitedStates);
    }

    [Fact]
    public void Check_invariants_reports_a_broken_invariant_after_a_direct_field_change()
    {
        var m = Build();
        var c = MoveTo(m, new Candidate(1) { ExpectedSalary = 10 }, "screen", "make_offer");
        Assert.Empty(m.CheckInvariants(c));
        c.ExpectedSalary = null;
        Assert.Equal(["offer_has_salary"], m.CheckInvariants(c));
    }

    [Fact]
    public void Transitions_are_counted_with_machine_outcome_and_reason_tags()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var transitions = new MetricCollector<long>(meters, FsmMeters.MeterName, FsmMeters.Transitions);
        var m = Builder().UseMeterFactory(meters).Build();
        var c = new Candidate(1);
        m.TryFire(c, "hire", Recruiter, "r", Applied);
        m.TryFire(c, "screen", Recruiter, "r", Applied);

        var ms = transitions.GetMeasurementSnapshot();
        Assert.Equal(2, ms.Count);
        Assert.Equal(("candidate", "rejected", "not_permitted"), ((string?)ms[0].Tags["machine"], (string?)ms[0].Tags["outcome"], (string?)ms[0].Tags["reason"]));
        Assert.Equal(("candidate", "accepted", "none"), ((string?)ms[1].Tags["machine"], (string?)ms[1].Tags["outcome"], (string?)ms[1].Tags["reason"]));
    }

    [Fact]
    public void Rejected_attempt_on_a_transition_that_writes_protected_fields_raises_a_security_event()
    {
        var logger = new FakeLogger();
        var m = Builder().UseLogger(logger).Build();
        var c = new Candidate(99);

        m.TryFire(c, "leave", Actor.User("mallory"), "blacklist them", Applied);
        m.TryFire(c, "hire", Actor.User("mallory"), "no event: hire writes no protected field", Applied);

        var e = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal((7001, "ProtectedTransitionRejected", LogLevel.Warning), (e.Id.Id, e.Id.Name, e.Level));
        Assert.Contains("mallory", e.Message, StringComparison.Ordinal);
        Assert.Contains("leave", e.Message, StringComparison.Ordinal);
        Assert.Contains("99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Introspection_lists_states_terminals_and_transitions()
    {
        var m = Build();
        Assert.Equal(States.Order(StringComparer.Ordinal), m.States.Order(StringComparer.Ordinal));
        Assert.Equal([LeftCompany, Rejected, Withdrawn], m.TerminalStates.Order(StringComparer.Ordinal));
        Assert.Equal(Applied, m.InitialState);
        Assert.Equal(14, m.Transitions.Count);
        Assert.Equal(["interview", "make_offer", "reject", "withdraw"], m.PermittedTriggers(Screening));
        Assert.Equal(["has_salary"], m.Transitions.Single(t => t.From == Interview && t.Trigger == "make_offer").Guards);
    }

    internal sealed class ListSink : ITransitionAuditSink
    {
        public ConcurrentQueue<TransitionRecord> Records { get; } = new();

        public void Write(TransitionRecord record) => Records.Enqueue(record);
    }

    private sealed class ThrowingSink : ITransitionAuditSink
    {
        public void Write(TransitionRecord record) => throw new InvalidOperationException("audit store down");
    }
}
