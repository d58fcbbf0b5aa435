using System.Data;
using System.Data.Common;
using Hardening.Shared;

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

    /// <summary>The primary-key column; audit rows store it as text (default <c>id</c>). The generated trigger makes it immutable.</summary>
    public string IdColumn { get; init; } = "id";

    /// <summary>The text column holding the state (default <c>status</c>).</summary>
    public string StatusColumn { get; init; } = "status";

    /// <summary>The setting holding the actor id (default <c>app.actor_id</c>).</summary>
    public string ActorIdSetting { get; init; } = "app.actor_id";

    /// <summary>The setting holding the actor kind, <c>USER</c> or <c>SYSTEM</c> (default <c>app.actor_kind</c>).</summary>
    public string ActorKindSetting { get; init; } = "app.actor_kind";

    /// <summary>The setting holding the reason (default <c>app.reason</c>).</summary>
    public string ReasonSetting { get; init; } = "app.reason";

    /// <summary>
    /// The setting <see cref="SetContextSql"/> uses to bind the actor and reason to the current transaction (default
    /// <c>app.context_binding</c>): the trigger refuses context left by an earlier transaction or changed afterwards.
    /// </summary>
    public string ContextBindingSetting { get; init; } = "app.context_binding";

    /// <summary>
    /// The role the application logs in as (not the table owner), e.g. <c>app</c>. When set, the script grants it
    /// SELECT, INSERT and UPDATE on the table and SELECT on the audit and transitions tables, and revokes everything
    /// else the enforcement depends on. Null (the default) only revokes from PUBLIC.
    /// </summary>
    public string? ApplicationRole { get; init; }

    /// <summary>The transitions table (default <c>{table}_transitions</c>).</summary>
    public string TransitionsTable => Table + "_transitions";

    /// <summary>The audit table (default <c>{table}_audit</c>).</summary>
    public string AuditTable => Table + "_audit";

    /// <summary>
    /// SQL that sets the actor and reason for the current transaction, with positional parameters <c>$1</c> (actor
    /// id), <c>$2</c> (actor kind, <c>USER</c> or <c>SYSTEM</c>) and <c>$3</c> (reason), the values of
    /// <see cref="ContextSettings"/> in order; run it in the same transaction as the status update (and again in each
    /// transaction: the trigger refuses context set by an earlier one). With Hardening.Rls, pass
    /// <see cref="ContextSettings"/> to the tenant session instead: one statement sets both contexts.
    /// </summary>
    /// <exception cref="ArgumentException">A setting name is not a valid PostgreSQL custom setting, or two are the same.</exception>
    public string SetContextSql
    {
        get
        {
            CheckSettings();
            return PostgresSettings.SetConfigStatement([ActorIdSetting, ActorKindSetting, ReasonSetting], ContextBindingSetting);
        }
    }

    /// <summary>
    /// The actor id, actor kind and reason settings with their values for <paramref name="actor"/> and
    /// <paramref name="reason"/>, in that order: what <see cref="SetContextSql"/> sets from <c>$1..$3</c>. Pass them with
    /// <see cref="ContextBindingSetting"/> to a session that sets transaction-local settings in its own statement
    /// (Hardening.Rls's <c>TenantDataSource.OpenSessionAsync(tenant, settings, bindingSetting)</c>), so the actor
    /// context travels with the tenant context in one statement and round trip.
    /// </summary>
    /// <param name="actor">Who fires the transition.</param>
    /// <param name="reason">Why (required, not blank).</param>
    /// <returns>Three name/value pairs.</returns>
    /// <exception cref="ArgumentException">The actor id or reason is blank or holds NUL or an unpaired surrogate, or a setting name is invalid.</exception>
    /// <example>
    /// <code>
    /// await using var session = await tenantDb.OpenSessionAsync(tenant, mapping.ContextSettings(Actor.User("recruiter-7"), "Signed offer"), mapping.ContextBindingSetting);
    /// </code>
    /// </example>
    public IReadOnlyList<KeyValuePair<string, string>> ContextSettings(Actor actor, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        CheckSettings();
        var kind = Actor.KindName(actor.Kind);
        if (string.IsNullOrWhiteSpace(actor.Id))
        {
            throw new ArgumentException("The actor id is empty; every status change is audited under an actor, so pass Actor.User(id) or Actor.System(jobName).", nameof(actor));
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("The reason is empty; every status change is audited with a reason, such as 'Signed offer received'.", nameof(reason));
        }

        PostgresSettings.ValidateValue(actor.Id, "actor id", nameof(actor), int.MaxValue, "no limit");
        PostgresSettings.ValidateValue(reason, "reason", nameof(reason), int.MaxValue, "no limit");
        return [new(ActorIdSetting, actor.Id), new(ActorKindSetting, kind), new(ReasonSetting, reason)];
    }

    /// <summary>Throws unless the four context settings are valid, distinct custom setting names.</summary>
    internal void CheckSettings()
    {
        PostgresNames.SettingName(ActorIdSetting, "actor id (PostgresTableMapping.ActorIdSetting)", nameof(ActorIdSetting));
        PostgresNames.SettingName(ActorKindSetting, "actor kind (PostgresTableMapping.ActorKindSetting)", nameof(ActorKindSetting));
        PostgresNames.SettingName(ReasonSetting, "reason (PostgresTableMapping.ReasonSetting)", nameof(ReasonSetting));
        PostgresNames.SettingName(ContextBindingSetting, "context binding (PostgresTableMapping.ContextBindingSetting)", nameof(ContextBindingSetting));
        string[] names = [ActorIdSetting, ActorKindSetting, ReasonSetting, ContextBindingSetting];
        if (names.Distinct(StringComparer.OrdinalIgnoreCase).Count() != names.Length)
        {
            throw new ArgumentException(
                $"The actor id, actor kind, reason and context binding settings must be four different names (got '{ActorIdSetting}', '{ActorKindSetting}', '{ReasonSetting}', '{ContextBindingSetting}'; PostgreSQL setting names ignore case).",
                nameof(ContextBindingSetting));
        }
    }

    /// <summary>
    /// SQL returning the states an entity has visited, in the order first entered, from the audit table (positional
    /// parameter <c>$1</c>, the id as text). <see cref="LoadVisitedStatesAsync"/> runs it.
    /// </summary>
    public string VisitedStatesSql
    {
        get
        {
            var audit = PostgresNames.Quote(Schema) + "." + PostgresNames.Quote(AuditTable);
            return $"SELECT v.state FROM (SELECT a.from_state AS state, a.id * 2 AS seq FROM {audit} a WHERE a.entity_id = $1 " +
                $"UNION ALL SELECT a.to_state, a.id * 2 + 1 FROM {audit} a WHERE a.entity_id = $1) v GROUP BY v.state ORDER BY min(v.seq)";
        }
    }

    /// <summary>
    /// SQL listing, one row per problem (column <c>problem</c>), every privilege and trigger that lets a role other
    /// than the table owner write what the enforcement trusts: writes to the audit or transitions table, DELETE,
    /// TRUNCATE or TRIGGER on the table, the audit id sequence, EXECUTE on the generated functions, triggers whose
    /// function the owner does not own, and generated triggers that are missing or disabled. No rows: sound.
    /// Run it after migrations or in a health check.
    /// </summary>
    public string LintSql
    {
        get
        {
            var table = PostgresNames.Literal(PostgresNames.Quote(Schema) + "." + PostgresNames.Quote(Table));
            var audit = PostgresNames.Literal(PostgresNames.Quote(Schema) + "." + PostgresNames.Quote(AuditTable));
            var transitions = PostgresNames.Literal(PostgresNames.Quote(Schema) + "." + PostgresNames.Quote(TransitionsTable));
            var prefix = Table + "_fsm_";
            var functions = string.Join(", ", new[] { prefix + "update", prefix + "insert", prefix + "delete", prefix + "owner_only", AuditTable + "_append_only" }
                .Select(f => "(" + PostgresNames.Literal(PostgresNames.Quote(Schema) + "." + PostgresNames.Quote(f) + "()") + ")"));
            var triggers = string.Join(", ", new[]
            {
                (table, prefix + "update"), (table, prefix + "insert"), (table, prefix + "delete"), (table, prefix + "truncate"),
                (audit, AuditTable + "_append_only"), (audit, AuditTable + "_no_truncate"), (audit, AuditTable + "_owner_only"),
                (transitions, TransitionsTable + "_owner_only"), (transitions, TransitionsTable + "_no_truncate"),
            }.Select(t => $"({t.Item1}, {PostgresNames.Literal(t.Item2)})"));
            return $"""
                WITH roles AS (
                    SELECT r.oid, r.rolname FROM pg_catalog.pg_roles r
                    WHERE NOT r.rolsuper AND r.rolname NOT LIKE 'pg\_%'
                      AND NOT pg_catalog.pg_has_role(r.oid, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = {table}::regclass), 'MEMBER'))
                SELECT problem FROM (
                    SELECT format('role %s can %s %s; revoke it (only the generated triggers write it)', r.rolname, p.priv, t.rel) AS problem
                    FROM roles r CROSS JOIN (VALUES ({audit}), ({transitions})) t(rel)
                    CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), ('TRIGGER'), ('REFERENCES')) p(priv)
                    WHERE pg_catalog.has_table_privilege(r.oid, t.rel::regclass, p.priv)
                    UNION ALL
                    SELECT format('role %s can %s %s; revoke it (rows leave through terminal states; a trigger of its own would run around the checks)', r.rolname, p.priv, {table})
                    FROM roles r CROSS JOIN (VALUES ('DELETE'), ('TRUNCATE'), ('TRIGGER')) p(priv)
                    WHERE pg_catalog.has_table_privilege(r.oid, {table}::regclass, p.priv)
                    UNION ALL
                    SELECT format('role %s can %s sequence %s; revoke it (it could stall every transition)', r.rolname, p.priv, s.seq)
                    FROM roles r CROSS JOIN (SELECT pg_catalog.pg_get_serial_sequence({audit}, 'id') AS seq) s
                    CROSS JOIN (VALUES ('USAGE'), ('UPDATE')) p(priv)
                    WHERE pg_catalog.has_sequence_privilege(r.oid, s.seq, p.priv)
                    UNION ALL
                    SELECT format('role %s can EXECUTE %s; revoke it (trigger functions are not for direct use)', r.rolname, f.fn)
                    FROM roles r CROSS JOIN (VALUES {functions}) f(fn)
                    WHERE pg_catalog.has_function_privilege(r.oid, f.fn::regprocedure, 'EXECUTE')
                    UNION ALL
                    SELECT format('trigger %s on %s runs %s, which the table owner does not own; drop it', t.tgname, t.tgrelid::regclass, t.tgfoid::regprocedure)
                    FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
                    WHERE t.tgrelid IN ({table}::regclass, {audit}::regclass, {transitions}::regclass) AND NOT t.tgisinternal
                      AND NOT pg_catalog.pg_has_role(p.proowner, c.relowner, 'MEMBER')
                    UNION ALL
                    SELECT format('generated trigger %s on %s is missing or disabled; run the generated script again', e.name, e.rel)
                    FROM (VALUES {triggers}) e(rel, name)
                    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = e.rel::regclass AND t.tgname = e.name AND t.tgenabled IN ('O', 'A'))
                ) problems ORDER BY problem
                """;
        }
    }

    /// <summary>
    /// Loads the states an entity has visited from the audit table (in the order first entered), to pass to
    /// <see cref="StatefulEntity"/>'s constructor when loading an entity, so history requirements see the stored history.
    /// </summary>
    /// <param name="connection">An open connection (e.g. an <c>NpgsqlConnection</c>).</param>
    /// <param name="entityId">The entity's id as the audit table stores it (the id column as text).</param>
    /// <param name="transaction">The transaction to run in, if any.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <example>
    /// <code>
    /// var visited = await mapping.LoadVisitedStatesAsync(conn, id.ToString(CultureInfo.InvariantCulture));
    /// var candidate = new Candidate(id, status, version, visited);
    /// </code>
    /// </example>
    public async Task<IReadOnlyList<string>> LoadVisitedStatesAsync(DbConnection connection, string entityId, DbTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(entityId);
        var cmd = connection.CreateCommand();
        await using var cmdDisposal = cmd.ConfigureAwait(false);
        cmd.CommandText = VisitedStatesSql;
        cmd.Transaction = transaction;
        var p = cmd.CreateParameter();
        p.DbType = DbType.String;
        p.Value = entityId;
        cmd.Parameters.Add(p);
        var states = new List<string>();
        var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            states.Add(reader.GetString(0));
        }

        return states;
    }
}
