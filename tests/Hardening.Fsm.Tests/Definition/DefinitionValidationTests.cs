using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Pipeline;
using static Hardening.Fsm.Tests.Definition.RandomDefinition;

namespace Hardening.Fsm.Tests.Definition;

public sealed class DefinitionValidationTests
{
    public enum Defect
    {
        UnreachableState,
        DeadEnd,
        TerminalWithOutgoing,
        DuplicateTransition,
        AmbiguousTargets,
        AmbiguousTriggers,
        HistoryNeverMet,
        EffectContradictsInvariant,
        SelfTransition,
    }

    /// <summary>Plants <paramref name="defect"/> at position <paramref name="k"/> and returns the text the error must contain.</summary>
    private static string Plant(RandomDefinition d, StateMachineBuilder<Thing> b, Defect defect, int k)
    {
        var last = S(d.States - 1);
        var i = k % (d.States - 1); // a non-terminal state with chain edge t{i}
        switch (defect)
        {
            case Defect.UnreachableState:
                b.Configure("ORPHAN").Terminal();
                return "Unreachable state 'ORPHAN'";
            case Defect.DeadEnd:
                b.Configure(S(i)).Permit("stall", "LIMBO");
                return "Dead end: non-terminal state 'LIMBO'";
            case Defect.TerminalWithOutgoing:
                b.Configure(last).Permit("reopen", S(0));
                return $"Terminal state '{last}' has outgoing transitions";
            case Defect.DuplicateTransition:
                b.Configure(S(i)).Permit("t" + i, S(i + 1));
                return $"Duplicate transition: trigger 't{i}' from '{S(i)}' to '{S(i + 1)}'";
            case Defect.AmbiguousTargets:
                b.Configure(S(i)).Permit("t" + i, "ELSEWHERE");
                b.Configure("ELSEWHERE").Terminal();
                return $"Ambiguous transition: trigger 't{i}' from '{S(i)}' goes to";
            case Defect.AmbiguousTriggers:
                b.Configure(S(i)).Permit("alias", S(i + 1));
                return $"Ambiguous transition: triggers 't{i}' and 'alias' both go from '{S(i)}' to '{S(i + 1)}'";
            case Defect.HistoryNeverMet:
                b.Configure(S(i + 1 == d.States - 1 ? i : i + 1)).OnlyAfter(last);
                return $"History requirement can never be met: '{S(i + 1 == d.States - 1 ? i : i + 1)}' only after '{last}'";
            case Defect.EffectContradictsInvariant:
            {
                var flag = b.ProtectedField(t => t.Flag, "flag");
                b.Configure(S(i + 1)).OnEntrySet(flag, true).Invariant("flag_off", flag.IsFalse());
                return $"Effect contradicts invariant: entering '{S(i + 1)}' sets flag = true, which breaks invariant 'flag_off'";
            }

            default:
                b.Configure(S(i)).Permit("again", S(i));
                return $"Self-transition: trigger 'again' from '{S(i)}'";
        }
    }

    [Property(MaxTest = 200)]
    public Property Random_valid_definitions_build()
    {
        return Prop.ForAll(RandomDefinition.Generator.ToArbitrary(), d =>
        {
            var m = d.Builder().Build();
            Assert.Equal(d.States, m.States.Count);
        });
    }

    [Property(MaxTest = 300)]
    public Property Definitions_with_a_planted_defect_are_rejected_naming_that_defect()
    {
        var cases = RandomDefinition.Generator
            .SelectMany(_ => Gen.Elements(Enum.GetValues<Defect>()), (d, defect) => (d, defect))
            .SelectMany(_ => Gen.Choose(0, 100), (x, k) => (x.d, x.defect, k));
        return Prop.ForAll(cases.ToArbitrary(), x =>
        {
            var b = x.d.Builder();
            var expected = Plant(x.d, b, x.defect, x.k);
            var e = Assert.Throws<StateMachineDefinitionException>(() => b.Build());
            var problem = Assert.Single(e.Problems);
            Assert.Contains(expected, problem, StringComparison.Ordinal);
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void One_exception_lists_every_problem()
    {
        var b = new StateMachineBuilder<Thing>("broken", t => t.State);
        var flag = b.ProtectedField(t => t.PublicFlag, "public_flag");
        b.Configure("A").Permit("go", "B").Permit("go", "C");
        b.Configure("B").Permit("back", "A");
        b.Configure("C").Terminal().OnlyAfter("NOWHERE").Permit("out", "A");
        b.Configure("D").OnEntrySet(flag, true).Invariant("never", flag.IsFalse());
        b.Configure("bad name!").Terminal();

        var e = Assert.Throws<StateMachineDefinitionException>(() => b.Build());

        string[] expected =
        [
            "No initial state",
            "Ambiguous transition: trigger 'go' from 'A'",
            "Terminal state 'C' has outgoing transitions",
            "History requirement can never be met: 'C' only after 'NOWHERE'",
            "Dead end: non-terminal state 'D'",
            "Effect contradicts invariant: entering 'D'",
            "Invalid state name 'bad name!'",
            "Protected field 'public_flag' (Thing.PublicFlag) has a public setter",
        ];
        foreach (var text in expected)
        {
            Assert.Contains(e.Problems, p => p.Contains(text, StringComparison.Ordinal));
            Assert.Contains(text, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_candidate_pipeline_is_valid()
    {
        var m = CandidatePipeline.Build();
        Assert.Equal(8, m.States.Count);
    }

    [Fact]
    public void Builder_misuse_throws_at_the_call_naming_the_problem()
    {
        var b = new StateMachineBuilder<Thing>("x", t => t.State);
        var e = Assert.Throws<ArgumentException>(() => b.Field(t => t.State.Length > 0, "computed"));
        Assert.Contains("property of the entity", e.Message, StringComparison.Ordinal);
        var flag = b.Field(t => t.PublicFlag, "public_flag");
        Assert.Throws<InvalidOperationException>(() => flag.GreaterThan(true));
    }
}
