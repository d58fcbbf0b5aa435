using System.Globalization;

namespace Hardening.Fsm.Tests.Pipeline;

/// <summary>The sample ATS candidate, driven by <see cref="CandidatePipeline"/>.</summary>
public sealed class Candidate : StatefulEntity
{
    public Candidate(long id)
        : base(CandidatePipeline.Applied) => Id = id;

    private Candidate(long id, string state, long version, IEnumerable<string> visited, bool blacklisted)
        : base(state, version, visited)
    {
        Id = id;
        IsBlacklisted = blacklisted;
    }

    public long Id { get; }

    /// <summary>Protected: only the machine (entering LEFT_COMPANY) changes it.</summary>
    public bool IsBlacklisted { get; private set; }

    public int? ExpectedSalary { get; set; }

    public bool OfferSigned { get; set; }

    /// <summary>Rebuilds a candidate from stored values (as a repository would).</summary>
    public static Candidate Load(long id, string state, bool blacklisted, int? salary, bool signed, long version = 0, IEnumerable<string>? visited = null) =>
        new(id, state, version, visited ?? [], blacklisted) { ExpectedSalary = salary, OfferSigned = signed };
}

/// <summary>The hiring pipeline: APPLIED, SCREENING, INTERVIEW, OFFER, JOINED, LEFT_COMPANY, REJECTED, WITHDRAWN.</summary>
public static class CandidatePipeline
{
    public const string Applied = "APPLIED";
    public const string Screening = "SCREENING";
    public const string Interview = "INTERVIEW";
    public const string Offer = "OFFER";
    public const string Joined = "JOINED";
    public const string LeftCompany = "LEFT_COMPANY";
    public const string Rejected = "REJECTED";
    public const string Withdrawn = "WITHDRAWN";

    public static readonly string[] States = [Applied, Screening, Interview, Offer, Joined, LeftCompany, Rejected, Withdrawn];

    /// <summary>Every trigger and the one state it always targets (the database sees only the target).</summary>
    public static readonly IReadOnlyDictionary<string, string> TriggerTargets = new Dictionary<string, string>
    {
        ["screen"] = Screening,
        ["interview"] = Interview,
        ["make_offer"] = Offer,
        ["hire"] = Joined,
        ["leave"] = LeftCompany,
        ["reject"] = Rejected,
        ["withdraw"] = Withdrawn,
    };

    public static PostgresTableMapping Table { get; } = new("public", "candidates") { ApplicationRole = PostgresServer.AppRole };

    public const string CreateTableSql = """
        CREATE TABLE IF NOT EXISTS public.candidates (
            id bigint PRIMARY KEY,
            status text NOT NULL DEFAULT 'APPLIED',
            is_blacklisted boolean NOT NULL DEFAULT false,
            expected_salary integer,
            offer_signed boolean NOT NULL DEFAULT false
        );
        """;

    public static StateMachineBuilder<Candidate> Builder()
    {
        var b = new StateMachineBuilder<Candidate>("candidate", c => c.Id.ToString(CultureInfo.InvariantCulture));
        var blacklisted = b.ProtectedField(c => c.IsBlacklisted, "is_blacklisted");
        var salary = b.Field(c => c.ExpectedSalary, "expected_salary");
        var signed = b.Field(c => c.OfferSigned, "offer_signed");

        b.InitialState(Applied);
        b.Configure(Applied)
            .Permit("screen", Screening)
            .Permit("reject", Rejected)
            .Permit("withdraw", Withdrawn);
        b.Configure(Screening)
            .Permit("interview", Interview)
            .Permit("make_offer", Offer) // fast track for referrals; hiring still needs an interview
            .Permit("reject", Rejected)
            .Permit("withdraw", Withdrawn);
        b.Configure(Interview)
            .Permit("make_offer", Offer).Guard("has_salary", salary.GreaterThan(0))
            .Permit("reject", Rejected)
            .Permit("withdraw", Withdrawn);
        b.Configure(Offer)
            .Invariant("offer_has_salary", salary.IsNotNull())
            .Permit("hire", Joined).Guard("offer_signed", signed.IsTrue())
            .Permit("reject", Rejected)
            .Permit("withdraw", Withdrawn);
        b.Configure(Joined)
            .OnlyAfter(Interview)
            .Permit("leave", LeftCompany);
        b.Configure(LeftCompany)
            .Terminal()
            .OnlyAfter(Joined)
            .OnEntrySet(blacklisted, true)
            .Invariant("left_is_blacklisted", blacklisted.IsTrue());
        b.Configure(Rejected).Terminal();
        b.Configure(Withdrawn).Terminal();
        return b;
    }

    public static StateMachine<Candidate> Build() => Builder().Build();
}
