namespace Hardening.Fsm;

/// <summary>
/// The SQLSTATEs raised by the generated PostgreSQL enforcement (class <c>HF</c>, chosen to collide with no
/// PostgreSQL class). Invariant and status-value violations use PostgreSQL's own <c>23514</c> (check_violation) with
/// the constraint named <c>{table}_fsm_inv_{invariant}</c> or <c>{table}_fsm_status</c>.
/// </summary>
public static class FsmSqlState
{
    /// <summary>The status change is not a permitted transition (e.g. skipping JOINED).</summary>
    public const string TransitionNotPermitted = "HF001";

    /// <summary>The row is in a terminal state; its status may not change.</summary>
    public const string TerminalState = "HF002";

    /// <summary>The target state requires a state the row was never in.</summary>
    public const string HistoryMissing = "HF003";

    /// <summary>A protected column was changed directly (not by a transition's entry effect).</summary>
    public const string ProtectedFieldChanged = "HF004";

    /// <summary>The actor id, actor kind or reason setting is missing, invalid, or was not set for the current transaction.</summary>
    public const string AuditContextMissing = "HF005";

    /// <summary>A guard of the transition does not hold on the row as the UPDATE writes it (before entry effects).</summary>
    public const string GuardFailed = "HF006";

    /// <summary>A row was inserted in a state other than the initial one.</summary>
    public const string NotInitialState = "HF007";

    /// <summary>The audit table is append-only; updating or deleting its rows is rejected.</summary>
    public const string AuditIsAppendOnly = "HF008";

    /// <summary>An UPDATE changed the id column; ids are immutable because the audit history is keyed on them.</summary>
    public const string IdChanged = "HF009";

    /// <summary>A DELETE or TRUNCATE of the table; rows leave through terminal states, not by deletion.</summary>
    public const string DeleteRefused = "HF010";

    /// <summary>An INSERT reused an id that already has audit history (a row deleted by the owner cannot come back).</summary>
    public const string IdReused = "HF011";

    /// <summary>The audit or transitions table was written by a role that does not own it (whatever its grants).</summary>
    public const string UntrustedWrite = "HF012";

    /// <summary>A trigger whose function the table owner does not own is attached, or a generated function was attached to another table.</summary>
    public const string UntrustedTrigger = "HF013";

    /// <summary>PostgreSQL's check_violation, raised for broken invariants and unknown status values.</summary>
    public const string CheckViolation = "23514";
}
