namespace Hardening.Fsm;

/// <summary>Where a machine's entities live in PostgreSQL, for <see cref="StateMachine{TEntity}.ToPostgresSql"/>.</summary>
public sealed class PostgresTableMapping
{
    /// <summary>Maps the machine to <paramref name="schema"/>.<paramref name="table"/>.</summary>
    /// <param name="schema">The schema, e.g. <c>public</c>.</param>
    /// <param name="table">The existing table, e.g. <c>candidates</c>.</param>
    public PostgresTableMapping(string schema, string table)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(table);
        Schema = schema;
        Table = table;
    }

    /// <summary>The schema.</summary>
    public string Schema { get; }

    /// <summary>The table.</summary>
    public string Table { get; }

    /// <summary>The primary-key column; audit rows store it as text (default <c>id</c>).</summary>
    public string IdColumn { get; init; } = "id";

    /// <summary>The text column holding the state (default <c>status</c>).</summary>
    public string StatusColumn { get; init; } = "status";

    /// <summary>The setting holding the actor id (default <c>app.actor_id</c>).</summary>
    public string ActorIdSetting { get; init; } = "app.actor_id";

    /// <summary>The setting holding the actor kind, <c>USER</c> or <c>SYSTEM</c> (default <c>app.actor_kind</c>).</summary>
    public string ActorKindSetting { get; init; } = "app.actor_kind";

    /// <summary>The setting holding the reason (default <c>app.reason</c>).</summary>
    public string ReasonSetting { get; init; } = "app.reason";

    /// <summary>The transitions table (default <c>{table}_transitions</c>).</summary>
    public string TransitionsTable => Table + "_transitions";

    /// <summary>The audit table (default <c>{table}_audit</c>).</summary>
    public string AuditTable => Table + "_audit";

    /// <summary>
    /// SQL that sets the actor and reason for the current transaction, with parameters <c>@actor_id</c>,
    /// <c>@actor_kind</c> and <c>@reason</c>; run it in the same transaction as the status update.
    /// </summary>
    public string SetContextSql =>
        $"SELECT set_config('{ActorIdSetting}', @actor_id, true), set_config('{ActorKindSetting}', @actor_kind, true), set_config('{ReasonSetting}', @reason, true)";
}
