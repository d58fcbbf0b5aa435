namespace Hardening.Fsm;

/// <summary>Why <see cref="StateMachine{TEntity}.TryFire"/> rejected an attempt.</summary>
public enum RejectionReason
{
    /// <summary>Not rejected.</summary>
    None,

    /// <summary>The entity's state is not the one the caller expected to leave (a concurrent change won).</summary>
    StaleState,

    /// <summary>The actor id is missing.</summary>
    ActorMissing,

    /// <summary>The reason is missing or blank.</summary>
    ReasonMissing,

    /// <summary>The current state is terminal; nothing may leave it.</summary>
    Terminal,

    /// <summary>The trigger is unknown or not permitted from the current state.</summary>
    NotPermitted,

    /// <summary>A guard of the transition does not hold (its name is in <see cref="TransitionResult.Detail"/>).</summary>
    GuardFailed,

    /// <summary>The target state requires a state that this entity never visited (named in <see cref="TransitionResult.Detail"/>).</summary>
    HistoryMissing,

    /// <summary>An invariant of the target state would not hold after the transition (named in <see cref="TransitionResult.Detail"/>).</summary>
    InvariantWouldBreak,
}
