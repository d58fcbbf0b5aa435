using Microsoft.Extensions.Logging;

namespace Hardening.Fsm;

/// <summary>Security events of the state machines (stable event ids).</summary>
internal static partial class FsmLog
{
    [LoggerMessage(EventId = 7001, EventName = "ProtectedTransitionRejected", Level = LogLevel.Warning,
        Message = "Rejected transition touching protected fields: machine {Machine}, entity {EntityId}, state {State}, trigger {Trigger}, reason {Reason}, actor {ActorKind} {ActorId}")]
    public static partial void ProtectedTransitionRejected(ILogger logger, string machine, string entityId, string state, string trigger, RejectionReason reason, string actorKind, string? actorId);
}
