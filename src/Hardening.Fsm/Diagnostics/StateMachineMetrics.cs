using System.Diagnostics.Metrics;

namespace Hardening.Fsm;

/// <summary>Names of the metrics the machines publish.</summary>
public static class StateMachineMetrics
{
    /// <summary>The meter name: <c>Hardening.Fsm</c>.</summary>
    public const string MeterName = "Hardening.Fsm";

    /// <summary>
    /// Counter <c>hardening.fsm.transitions</c> (unit <c>{transition}</c>) with tags <c>machine</c>, <c>outcome</c>
    /// (<c>accepted</c> | <c>rejected</c>) and <c>reason</c> (<c>none</c> or the snake_case <see cref="RejectionReason"/>).
    /// </summary>
    public const string TransitionsCounterName = "hardening.fsm.transitions";
}

/// <summary>The counter with its tag sets precomputed, so recording allocates nothing.</summary>
internal sealed class TransitionMetrics
{
    private readonly Counter<long> _transitions;
    private readonly KeyValuePair<string, object?>[][] _tags;

    public TransitionMetrics(string machine, IMeterFactory? factory)
    {
        var meter = factory?.Create(StateMachineMetrics.MeterName) ?? new Meter(StateMachineMetrics.MeterName);
        _transitions = meter.CreateCounter<long>(StateMachineMetrics.TransitionsCounterName, "{transition}", "State machine transition attempts by outcome and reason.");
        var reasons = Enum.GetValues<RejectionReason>();
        _tags = new KeyValuePair<string, object?>[reasons.Length][];
        foreach (var r in reasons)
        {
            _tags[(int)r] =
            [
                new("machine", machine),
                new("outcome", r == RejectionReason.None ? "accepted" : "rejected"),
                new("reason", ReasonTag(r)),
            ];
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Record(RejectionReason reason)
    {
        if (_transitions.Enabled)
        {
            _transitions.Add(1, _tags[(int)reason]);
        }
    }

    internal static string ReasonTag(RejectionReason reason) => reason switch
    {
        RejectionReason.None => "none",
        RejectionReason.StaleState => "stale_state",
        RejectionReason.ActorMissing => "actor_missing",
        RejectionReason.ReasonMissing => "reason_missing",
        RejectionReason.Terminal => "terminal",
        RejectionReason.NotPermitted => "not_permitted",
        RejectionReason.GuardFailed => "guard_failed",
        RejectionReason.HistoryMissing => "history_missing",
        _ => "invariant_would_break",
    };
}
