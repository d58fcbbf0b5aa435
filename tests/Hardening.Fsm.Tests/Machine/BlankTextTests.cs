using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Pipeline;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Machine;

/// <summary>
/// The actor id and the reason are refused when null, empty or only ASCII whitespace (space, tab, LF, VT, FF, CR: the set
/// the generated trigger trims with btrim), and accepted otherwise. Generated strings mix those characters with the
/// characters around them (control characters below and above, '!', non-ASCII spaces), checked against a reference model.
/// </summary>
public sealed class BlankTextTests
{
    private static readonly StateMachine<Candidate> CandidateMachine = Build();

    private static readonly char[] AsciiBlanks = [' ', '\t', '\n', '\v', '\f', '\r'];

    private static readonly char[] Alphabet =
        [' ', '\t', '\n', '\v', '\f', '\r', '\0', '\u0008', '\u000e', '\u001f', '!', 'a', '\u007f', '\u0085', '\u00a0', '\u2028', '\u3000'];

    public static class Texts
    {
        public static Arbitrary<string?> Generate() =>
            Gen.Frequency(
                    (1, Gen.Constant<string?>(null)),
                    (2, Gen.Elements(AsciiBlanks).ArrayOf().Select(a => (string?)new string(a))),
                    (6, Gen.Elements(Alphabet).ArrayOf().Select(a => (string?)new string(a[..Math.Min(a.Length, 8)]))))
                .ToArbitrary();
    }

    /// <summary>The reference model: trimming the six ASCII blanks leaves nothing.</summary>
    private static bool Blank(string? text) => text is null || text.Trim(AsciiBlanks).Length == 0;

    [Property(MaxTest = 300, Arbitrary = [typeof(Texts)])]
    public void Actor_id_is_refused_exactly_when_it_is_blank(string? id)
    {
        var c = new Candidate(1);
        var r = CandidateMachine.TryFire(c, "screen", Actor.User(id!), "CV parsed", Applied);

        Assert.Equal(Blank(id) ? RejectionReason.ActorMissing : RejectionReason.None, r.Reason);
        Assert.Equal(Blank(id) ? Applied : Screening, c.State);
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Texts)])]
    public void Reason_is_refused_exactly_when_it_is_blank(string? reason)
    {
        var c = new Candidate(1);
        var r = CandidateMachine.TryFire(c, "screen", Actor.User("recruiter-7"), reason!, Applied);

        Assert.Equal(Blank(reason) ? RejectionReason.ReasonMissing : RejectionReason.None, r.Reason);
        Assert.Equal(Blank(reason) ? Applied : Screening, c.State);
        if (!Blank(reason))
        {
            Assert.Equal(reason, r.Record!.Reason);
        }
    }
}
