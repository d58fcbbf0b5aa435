namespace Hardening.Fsm;

/// <summary>
/// The outcome of <see cref="StateMachine{TEntity}.TryFire"/>: an accepted <see cref="Record"/>, or a
/// <see cref="Reason"/> code. A rejection is a struct without allocation; nothing of the entity changed.
/// </summary>
public readonly struct TransitionResult : IEquatable<TransitionResult>
{
    private readonly string? _state;
    private readonly string? _trigger;

    private TransitionResult(TransitionRecord? record, RejectionReason reason, string? detail, string? state, string? trigger)
    {
        Record = record;
        Reason = reason;
        Detail = detail;
        _state = state;
        _trigger = trigger;
    }

    /// <summary>True when the transition was applied.</summary>
    public bool Accepted => Record is not null;

    /// <summary>The audit record of an accepted transition; null when rejected.</summary>
    public TransitionRecord? Record { get; }

    /// <summary>Why the attempt was rejected; <see cref="RejectionReason.None"/> when accepted.</summary>
    public RejectionReason Reason { get; }

    /// <summary>The guard, required state or invariant that stopped the attempt, when there is one.</summary>
    public string? Detail { get; }

    /// <summary>A sentence describing the rejection (allocates; for logs and error responses).</summary>
    public string Message => Reason switch
    {
        RejectionReason.None => "Accepted.",
        RejectionReason.StaleState => $"The entity is in state '{_state}', not the expected one; reload it and retry.",
        RejectionReason.ActorMissing => "An actor id is required for every transition.",
        RejectionReason.ReasonMissing => "A non-empty reason is required for every transition.",
        RejectionReason.Terminal => $"State '{_state}' is terminal; trigger '{_trigger}' cannot leave it.",
        RejectionReason.NotPermitted => $"Trigger '{_trigger}' is not permitted in state '{_state}'.",
        RejectionReason.GuardFailed => $"Guard '{Detail}' of trigger '{_trigger}' in state '{_state}' does not hold.",
        RejectionReason.HistoryMissing => $"Trigger '{_trigger}' requires the entity to have been in state '{Detail}' first.",
        _ => $"Trigger '{_trigger}' from state '{_state}' would break invariant '{Detail}'.",
    };

    /// <summary>Equality operator.</summary>
    public static bool operator ==(TransitionResult left, TransitionResult right) => left.Equals(right);

    /// <summary>Inequality operator.</summary>
    public static bool operator !=(TransitionResult left, TransitionResult right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(TransitionResult other) =>
        ReferenceEquals(Record, other.Record) && Reason == other.Reason && Detail == other.Detail && _state == other._state && _trigger == other._trigger;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is TransitionResult r && Equals(r);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Record, Reason, Detail, _state, _trigger);

    /// <inheritdoc />
    public override string ToString() => Accepted ? Record!.ToString() : $"{Reason}: {Message}";

    internal static TransitionResult Accept(TransitionRecord record) => new(record, RejectionReason.None, null, record.From, record.Trigger);

    internal static TransitionResult Reject(RejectionReason reason, string? state, string? trigger, string? detail = null) => new(null, reason, detail, state, trigger);
}
