namespace Hardening.Fsm;

/// <summary>
/// Receives the record of every accepted transition, before the entity changes. A sink that throws cancels the
/// transition (nothing is applied) and the exception reaches the caller of <see cref="StateMachine{TEntity}.TryFire"/>.
/// Keep it fast (e.g. append to an in-memory outbox written in the same database transaction).
/// </summary>
public interface ITransitionAuditSink
{
    /// <summary>Records an accepted transition.</summary>
    void Write(TransitionRecord record);
}
