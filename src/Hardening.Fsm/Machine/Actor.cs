namespace Hardening.Fsm;

/// <summary>Whether a person or the system made a change (stored as <c>USER</c> / <c>SYSTEM</c>).</summary>
public enum ActorKind
{
    /// <summary>A person, e.g. a recruiter.</summary>
    User,

    /// <summary>An automated process, e.g. a nightly job.</summary>
    System,
}

/// <summary>Who fires a transition. Every accepted transition records the actor.</summary>
/// <param name="Id">The actor's id (user id, job name); must not be empty.</param>
/// <param name="Kind">A person or the system.</param>
public readonly record struct Actor(string Id, ActorKind Kind)
{
    /// <summary>A person or the system; any other value is refused with <see cref="ArgumentOutOfRangeException"/>.</summary>
    public ActorKind Kind { get; init => field = Check(value); } = Check(Kind);

    /// <summary>A person.</summary>
    public static Actor User(string id) => new(id, ActorKind.User);

    /// <summary>An automated process.</summary>
    public static Actor System(string id) => new(id, ActorKind.System);

    /// <summary>The kind as stored in the database: <c>USER</c> or <c>SYSTEM</c>.</summary>
    public static string KindName(ActorKind kind) => Check(kind) == ActorKind.System ? "SYSTEM" : "USER";

    internal static ActorKind Check(ActorKind kind) => kind is ActorKind.User or ActorKind.System
        ? kind
        : throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Actor kind {(int)kind} is not defined; use ActorKind.User or ActorKind.System.");
}
