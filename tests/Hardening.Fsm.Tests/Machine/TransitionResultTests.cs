namespace Hardening.Fsm.Tests.Machine;

/// <summary>The rejection sentences, equality and text of <see cref="TransitionResult"/> and the actor kinds, against a hand-written table.</summary>
public sealed class TransitionResultTests
{
    public static TheoryData<RejectionReason, string> Sentences => new()
    {
        { RejectionReason.StaleState, "The entity is in state 'screening', not the expected one; reload it and retry." },
        { RejectionReason.ActorMissing, "An actor id is required for every transition." },
        { RejectionReason.ReasonMissing, "A non-empty reason is required for every transition." },
        { RejectionReason.Terminal, "State 'screening' is terminal; trigger 'hire' cannot leave it." },
        { RejectionReason.NotPermitted, "Trigger 'hire' is not permitted in state 'screening'." },
        { RejectionReason.GuardFailed, "Guard 'has_salary' of trigger 'hire' in state 'screening' does not hold." },
        { RejectionReason.HistoryMissing, "Trigger 'hire' requires the entity to have been in state 'has_salary' first." },
        { RejectionReason.InvariantWouldBreak, "Trigger 'hire' from state 'screening' would break invariant 'has_salary'." },
    };

    [Theory]
    [MemberData(nameof(Sentences))]
    public void Each_rejection_has_its_sentence_and_says_so_in_its_text(RejectionReason reason, string sentence)
    {
        var r = TransitionResult.Reject(reason, "screening", "hire", "has_salary");
        Assert.False(r.Accepted);
        Assert.Null(r.Record);
        Assert.Equal(sentence, r.Message);
        Assert.Equal($"{reason}: {sentence}", r.ToString());
    }

    [Fact]
    public void Results_are_equal_exactly_when_every_part_is()
    {
        var a = TransitionResult.Reject(RejectionReason.GuardFailed, "s", "t", "g");
        Assert.True(a == TransitionResult.Reject(RejectionReason.GuardFailed, "s", "t", "g"));
        Assert.False(a != TransitionResult.Reject(RejectionReason.GuardFailed, "s", "t", "g"));
        Assert.True(a.Equals((object)TransitionResult.Reject(RejectionReason.GuardFailed, "s", "t", "g")));
        Assert.Equal(a.GetHashCode(), TransitionResult.Reject(RejectionReason.GuardFailed, "s", "t", "g").GetHashCode());
        foreach (var other in new[]
        {
            TransitionResult.Reject(RejectionReason.NotPermitted, "s", "t", "g"),
            TransitionResult.Reject(RejectionReason.GuardFailed, "x", "t", "g"),
            TransitionResult.Reject(RejectionReason.GuardFailed, "s", "x", "g"),
            TransitionResult.Reject(RejectionReason.GuardFailed, "s", "t", "x"),
        })
        {
            Assert.True(a != other);
            Assert.False(a == other);
            Assert.False(a.Equals((object)other));
        }

        Assert.False(a.Equals("not a result"));
        Assert.Equal("Accepted.", default(TransitionResult).Message);
    }

    [Fact]
    public void Actor_kinds_have_their_database_names_and_others_are_refused()
    {
        Assert.Equal("USER", Actor.KindName(ActorKind.User));
        Assert.Equal("SYSTEM", Actor.KindName(ActorKind.System));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Actor.KindName((ActorKind)7));
        Assert.Equal("kind", e.ParamName);
        Assert.Contains("Actor kind 7 is not defined", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Actor("a", (ActorKind)7));
    }
}
