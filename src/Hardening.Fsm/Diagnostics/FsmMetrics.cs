using System.Diagnostics.Metrics;

namespace Hardening.Fsm;

/// <summary>
/// The instruments of one machine, created from <see cref="IMeterFactory"/>, with the tag sets precomputed so that
/// recording allocates nothing. Without a meter factory (a machine built outside DI with no
/// <c>UseMeterFactory</c>) nothing is recorded.
/// </summary>
internal sealed class FsmMetrics
{
    public const string MeterName = FsmMeters.MeterName;

    private readonly Counter<long>? _transitions;
    private readonly KeyValuePair<string, object?>[][] _tags;

    public FsmMetrics(string machine, IMeterFactory? meterFactory)
    {
        _transitions = meterFactory?.Create(MeterName).CreateCounter<long>(FsmMeters.Transitions, "{transition}", "State machine transition attempts by outcome and reason.");
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
        if (_transitions is { Enabled: true })
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
