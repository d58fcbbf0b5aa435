using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Pipeline;

namespace Hardening.Fsm.Tests.Machine;

/// <summary>Actor kinds outside the enum (casts, arithmetic, deserialised numbers) are refused, never printed as USER.</summary>
public sealed class ActorTests
{
    public static class Kinds
    {
        public static Arbitrary<int> Undefined() =>
            Gen.OneOf(Gen.Choose(2, 1000), Gen.Choose(-1000, -1), Gen.Elements(int.MinValue, int.MaxValue)).ToArbitrary();
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Kinds)])]
    public void An_undefined_actor_kind_is_refused_everywhere(int kind)
    {
        var undefined = (ActorKind)kind;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Actor("recruiter-7", undefined));
        Assert.Contains(kind.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Actor.User("recruiter-7") with { Kind = undefined });
        Assert.Throws<ArgumentOutOfRangeException>(() => Actor.KindName(undefined));

        // Memory that never went through the constructor (e.g. an unsafe copy) is refused by TryFire as well.
        var actor = Actor.User("recruiter-7");
        System.Runtime.CompilerServices.Unsafe.As<Actor, (string, ActorKind)>(ref actor).Item2 = undefined;
        var candidate = new Candidate(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => CandidatePipeline.Build().TryFire(candidate, "screen", actor, "CV parsed", CandidatePipeline.Applied));
        Assert.Equal(CandidatePipeline.Applied, candidate.State);
    }
}
