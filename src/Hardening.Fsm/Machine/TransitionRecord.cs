namespace Hardening.Fsm;

/// <summary>The audit record of one accepted transition.</summary>
public sealed class TransitionRecord
{
    internal TransitionRecord(string machine, string entityId, string from, string to, string trigger, Actor actor, string reason, DateTimeOffset occurredAt, bool isTerminal, long version)
    {
        Machine = machine;
        EntityId = entityId;
        From = from;
        To = to;
        Trigger = trigger;
        ActorId = actor.Id;
        ActorKind = actor.Kind;
        Reason = reason;
        OccurredAt = occurredAt;
        IsTerminal = isTerminal;
        Version = version;
    }

    /// <summary>The machine's name.</summary>
    public string Machine { get; }

    /// <summary>The entity's id.</summary>
    public string EntityId { get; }

    /// <summary>The state left.</summary>
    public string From { get; }

    /// <summary>The state entered.</summary>
    public string To { get; }

    /// <summary>The trigger fired.</summary>
    public string Trigger { get; }

    /// <summary>Who fired it.</summary>
    public string ActorId { get; }

    /// <summary>A person or the system.</summary>
    public ActorKind ActorKind { get; }

    /// <summary>Why (never empty).</summary>
    public string Reason { get; }

    /// <summary>When, from the machine's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset OccurredAt { get; }

    /// <summary>True when <see cref="To"/> is a terminal state.</summary>
    public bool IsTerminal { get; }

    /// <summary>The entity's version after the transition.</summary>
    public long Version { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Machine} {EntityId}: {From} -> {To} ({Trigger}) by {Actor.KindName(ActorKind)} {ActorId}: {Reason}";
}
