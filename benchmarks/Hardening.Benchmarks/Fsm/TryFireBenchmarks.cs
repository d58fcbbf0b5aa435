using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Hardening.Fsm;

namespace Hardening.Benchmarks.Fsm;

/// <summary>
/// Question: what does the compiled machine's TryFire cost against a hand-written switch over the same candidate
/// pipeline (same checks: expected state, actor, reason, permitted trigger, guard, history, invariant, entry effect,
/// audit record)? Goal: at most 2x the switch, and 0 bytes per rejected attempt.
/// On a loaded machine a short job measures tier-0 code; run with DOTNET_TieredCompilation=0 (both sides fully
/// optimised) or a longer job: <c>./build.sh bench '*TryFire*' --job short --inProcess</c>.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TryFireBenchmarks
{
    private static readonly Actor Recruiter = Actor.User("recruiter-7");
    private StateMachine<BenchCandidate> _machine = null!;
    private BenchCandidate _interview = null!;
    private HandCandidate _handInterview = null!;

    [GlobalSetup]
    public void Setup()
    {
        _machine = BenchPipeline.Build();
        _interview = new BenchCandidate(1);
        foreach (var t in new[] { "screen", "interview" })
        {
            _machine.TryFire(_interview, t, Recruiter, "setup", _interview.State);
        }

        _handInterview = new HandCandidate { Id = 1, Status = "INTERVIEW" };
        _handInterview.Visited.Add("SCREENING");
        _handInterview.Visited.Add("INTERVIEW");
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Rejected: not permitted")]
    public RejectionReason Switch_not_permitted() => HandWritten.TryFire(_handInterview, "leave", Recruiter, "r", "INTERVIEW", out _);

    [Benchmark, BenchmarkCategory("Rejected: not permitted")]
    public RejectionReason Machine_not_permitted() => _machine.TryFire(_interview, "leave", Recruiter, "r", "INTERVIEW").Reason;

    [Benchmark(Baseline = true), BenchmarkCategory("Rejected: guard")]
    public RejectionReason Switch_guard_failed() => HandWritten.TryFire(_handInterview, "make_offer", Recruiter, "r", "INTERVIEW", out _);

    [Benchmark, BenchmarkCategory("Rejected: guard")]
    public RejectionReason Machine_guard_failed() => _machine.TryFire(_interview, "make_offer", Recruiter, "r", "INTERVIEW").Reason;

    [Benchmark(Baseline = true), BenchmarkCategory("Rejected: stale")]
    public RejectionReason Switch_stale() => HandWritten.TryFire(_handInterview, "reject", Recruiter, "r", "APPLIED", out _);

    [Benchmark, BenchmarkCategory("Rejected: stale")]
    public RejectionReason Machine_stale() => _machine.TryFire(_interview, "reject", Recruiter, "r", "APPLIED").Reason;

    /// <summary>Accepted: a new entity each time (both sides allocate it), then APPLIED -> SCREENING with its audit record.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Accepted")]
    public object? Switch_accepted()
    {
        var c = new HandCandidate { Id = 2, Status = "APPLIED" };
        HandWritten.TryFire(c, "screen", Recruiter, "CV parsed", "APPLIED", out var record);
        return record;
    }

    [Benchmark, BenchmarkCategory("Accepted")]
    public object? Machine_accepted()
    {
        var c = new BenchCandidate(2);
        return _machine.TryFire(c, "screen", Recruiter, "CV parsed", "APPLIED").Record;
    }
}

public sealed class BenchCandidate(long id) : StatefulEntity("APPLIED")
{
    public long Id { get; } = id;

    public bool IsBlacklisted { get; private set; }

    public int? ExpectedSalary { get; set; }

    public bool OfferSigned { get; set; }
}

public static class BenchPipeline
{
    public static StateMachine<BenchCandidate> Build()
    {
        var b = new StateMachineBuilder<BenchCandidate>("candidate", c => c.Id.ToString(CultureInfo.InvariantCulture));
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
        b.Configure("LEFT_COMPANY").Terminal().OnlyAfter("JOINED").OnEntrySet(blacklisted, true).Invariant("left_is_blacklisted", blacklisted.IsTrue());
        b.Configure("REJECTED").Terminal();
        b.Configure("WITHDRAWN").Terminal();
        return b.Build();
    }
}

/// <summary>The peer: what a team writes by hand without a machine (no locking, no metrics).</summary>
public sealed class HandCandidate
{
    public long Id { get; set; }

    public string Status { get; set; } = "APPLIED";

    public long Version { get; set; }

    public bool IsBlacklisted { get; set; }

    public int? ExpectedSalary { get; set; }

    public bool OfferSigned { get; set; }

    public List<string> Visited { get; } = ["APPLIED"];
}

public sealed record HandRecord(string EntityId, string From, string To, string Trigger, string ActorId, ActorKind Kind, string Reason, DateTimeOffset At, bool Terminal, long Version);

public static class HandWritten
{
    public static RejectionReason TryFire(HandCandidate c, string trigger, Actor actor, string reason, string expected, out HandRecord? record)
    {
        record = null;
        if (c.Status != expected)
        {
            return RejectionReason.StaleState;
        }

        if (string.IsNullOrWhiteSpace(actor.Id))
        {
            return RejectionReason.ActorMissing;
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            return RejectionReason.ReasonMissing;
        }

        string? target = null;
        switch (c.Status)
        {
            case "APPLIED":
                target = trigger switch { "screen" => "SCREENING", "reject" => "REJECTED", "withdraw" => "WITHDRAWN", _ => null };
                break;
            case "SCREENING":
                target = trigger switch { "interview" => "INTERVIEW", "make_offer" => "OFFER", "reject" => "REJECTED", "withdraw" => "WITHDRAWN", _ => null };
                break;
            case "INTERVIEW":
                target = trigger switch { "make_offer" => "OFFER", "reject" => "REJECTED", "withdraw" => "WITHDRAWN", _ => null };
                if (target == "OFFER" && !(c.ExpectedSalary > 0))
                {
                    return RejectionReason.GuardFailed;
                }

                break;
            case "OFFER":
                target = trigger switch { "hire" => "JOINED", "reject" => "REJECTED", "withdraw" => "WITHDRAWN", _ => null };
                if (target == "JOINED" && !c.OfferSigned)
                {
                    return RejectionReason.GuardFailed;
                }

                break;
            case "JOINED":
                target = trigger == "leave" ? "LEFT_COMPANY" : null;
                break;
            case "LEFT_COMPANY" or "REJECTED" or "WITHDRAWN":
                return RejectionReason.Terminal;
        }

        if (target is null)
        {
            return RejectionReason.NotPermitted;
        }

        if ((target == "JOINED" && !c.Visited.Contains("INTERVIEW")) || (target == "LEFT_COMPANY" && !c.Visited.Contains("JOINED")))
        {
            return RejectionReason.HistoryMissing;
        }

        if (target == "OFFER" && c.ExpectedSalary is null)
        {
            return RejectionReason.InvariantWouldBreak;
        }

        var terminal = target is "LEFT_COMPANY" or "REJECTED" or "WITHDRAWN";
        record = new HandRecord(c.Id.ToString(CultureInfo.InvariantCulture), c.Status, target, trigger, actor.Id, actor.Kind, reason, DateTimeOffset.UtcNow, terminal, c.Version + 1);
        if (target == "LEFT_COMPANY")
        {
            c.IsBlacklisted = true;
        }

        if (!c.Visited.Contains(target))
        {
            c.Visited.Add(target);
        }

        c.Status = target;
        c.Version++;
        return RejectionReason.None;
    }
}
