using Hardening.Fsm;

namespace Hardening.Samples.Ats.Candidates;

/// <summary>A candidate as the pipeline sees it; status and blacklist flag change only through the machine.</summary>
public sealed class CandidateEntity : StatefulEntity
{
    /// <summary>Loads a stored candidate.</summary>
    public CandidateEntity(Guid id, string state, IEnumerable<string> visited, bool isBlacklisted)
        : base(state, 0, visited)
    {
        Id = id;
        IsBlacklisted = isBlacklisted;
    }

    /// <summary>The id.</summary>
    public Guid Id { get; }

    /// <summary>Set only by entering LEFT_COMPANY.</summary>
    public bool IsBlacklisted { get; private set; }

    /// <summary>Expected salary; an offer needs one.</summary>
    public int? ExpectedSalary { get; set; }

    /// <summary>Whether the candidate signed the offer; hiring needs it.</summary>
    public bool OfferSigned { get; set; }
}

/// <summary>The candidate pipeline (the one in the Hardening.Fsm README).</summary>
public static class Pipeline
{
    /// <summary>The machine's name.</summary>
    public const string Name = "candidate";

    /// <summary>Defines APPLIED → … → JOINED → LEFT_COMPANY (terminal, blacklists), REJECTED, WITHDRAWN.</summary>
    public static void Define(StateMachineBuilder<CandidateEntity> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var blacklisted = b.ProtectedField(c => c.IsBlacklisted, "is_blacklisted");
        var salary = b.Field(c => c.ExpectedSalary, "expected_salary");
        var signed = b.Field(c => c.OfferSigned, "offer_signed");
        b.InitialState("APPLIED");
        b.Configure("APPLIED").Permit("screen", "SCREENING").Permit("reject", "REJECTED").Permit("withdraw", "WITHDRAWN");
        b.Configure("SCREENING").Permit("interview", "INTERVIEW").Permit("make_offer", "OFFER").Permit("reject", "REJECTED").Permit("withdraw", "WITHDRAWN");
        b.Configure("INTERVIEW").Permit("make_offer", "OFFER").Guard("has_salary", salary.GreaterThan(0)).Permit("reject", "REJECTED").Permit("withdraw", "WITHDRAWN");
        b.Configure("OFFER").Invariant("offer_has_salary", salary.IsNotNull())
            .Permit("hire", "JOINED").Guard("offer_signed", signed.IsTrue()).Permit("reject", "REJECTED").Permit("withdraw", "WITHDRAWN");
        b.Configure("JOINED").OnlyAfter("INTERVIEW").Permit("leave", "LEFT_COMPANY");
        b.Configure("LEFT_COMPANY").Terminal().OnlyAfter("JOINED")
            .OnEntrySet(blacklisted, true)
            .Invariant("left_is_blacklisted", blacklisted.IsTrue());
        b.Configure("REJECTED").Terminal();
        b.Configure("WITHDRAWN").Terminal();
    }
}
