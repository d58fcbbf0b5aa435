using System.Diagnostics.Metrics;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Hardening.Fsm;

/// <summary>
/// Declares a state machine once: states, triggers, guarded transitions, terminal states, history requirements,
/// invariants, entry effects and protected fields. <see cref="Build"/> validates the whole definition and produces an
/// immutable, thread-safe <see cref="StateMachine{TEntity}"/> shared by every entity.
/// </summary>
/// <typeparam name="TEntity">The entity type.</typeparam>
/// <example>
/// <code>
/// var b = new StateMachineBuilder&lt;Candidate&gt;("candidate", c =&gt; c.Id.ToString(CultureInfo.InvariantCulture));
/// var blacklisted = b.ProtectedField(c =&gt; c.IsBlacklisted, "is_blacklisted");
/// b.InitialState("APPLIED");
/// b.Configure("APPLIED").Permit("screen", "SCREENING").Permit("reject", "REJECTED");
/// b.Configure("JOINED").Permit("leave", "LEFT_COMPANY");
/// b.Configure("LEFT_COMPANY").Terminal().OnlyAfter("JOINED")
///     .OnEntrySet(blacklisted, true)
///     .Invariant("left_is_blacklisted", blacklisted.IsTrue());
/// StateMachine&lt;Candidate&gt; machine = b.Build();
/// </code>
/// </example>
public sealed class StateMachineBuilder<TEntity>
    where TEntity : StatefulEntity
{
    private readonly List<StateConfiguration<TEntity>> _states = [];
    private readonly List<FieldDefinition> _fields = [];
    private readonly List<(string Name, Condition Condition)> _invariants = [];
    private readonly List<ITransitionAuditSink> _sinks = [];
    private string? _initial;
    private TimeProvider _time = TimeProvider.System;
    private ILogger? _logger;
    private IMeterFactory? _meterFactory;

    /// <summary>Starts a definition.</summary>
    /// <param name="name">The machine's name, used in metrics, logs and database error messages (e.g. <c>candidate</c>).</param>
    /// <param name="entityId">Reads the entity's id for audit records (e.g. <c>c =&gt; c.Id.ToString(CultureInfo.InvariantCulture)</c>,
    /// which matches the database's <c>id::text</c>).</param>
    public StateMachineBuilder(string name, Func<TEntity, string> entityId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(entityId);
        Name = name;
        EntityId = entityId;
    }

    /// <summary>The machine's name.</summary>
    public string Name { get; }

    internal Func<TEntity, string> EntityId { get; }

    internal IReadOnlyList<StateConfiguration<TEntity>> States => _states;

    internal IReadOnlyList<FieldDefinition> Fields => _fields;

    internal IReadOnlyList<(string Name, Condition Condition)> GlobalInvariants => _invariants;

    internal string? Initial => _initial;

    /// <summary>Declares a field that transitions may read (guards, invariants) and that the application may change freely.</summary>
    /// <param name="property">The property, e.g. <c>c =&gt; c.ExpectedSalary</c>.</param>
    /// <param name="column">The database column, e.g. <c>expected_salary</c>.</param>
    public EntityField<T> Field<T>(Expression<Func<TEntity, T>> property, string column) => AddField(property, column, isProtected: false);

    /// <summary>
    /// Declares a field that only transitions (entry effects) may change. Give the property a private setter; the
    /// generated database trigger rejects direct changes to its column.
    /// </summary>
    /// <param name="property">The property, e.g. <c>c =&gt; c.IsBlacklisted</c>.</param>
    /// <param name="column">The database column, e.g. <c>is_blacklisted</c>.</param>
    public EntityField<T> ProtectedField<T>(Expression<Func<TEntity, T>> property, string column) => AddField(property, column, isProtected: true);

    /// <summary>Sets the state every new entity starts in.</summary>
    public StateMachineBuilder<TEntity> InitialState(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _initial = state;
        GetOrAdd(state);
        return this;
    }

    /// <summary>Configures <paramref name="state"/> (declaring it if needed).</summary>
    public StateConfiguration<TEntity> Configure(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return GetOrAdd(state);
    }

    /// <summary>Adds an invariant that must hold in every state (a CHECK constraint in the database).</summary>
    /// <param name="name">A short name such as <c>salary_not_negative</c>; it names the CHECK constraint.</param>
    /// <param name="condition">The rule.</param>
    public StateMachineBuilder<TEntity> Invariant(string name, Condition condition)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(condition);
        _invariants.Add((name, condition));
        return this;
    }

    /// <summary>Adds a sink that receives every accepted transition's record before it is applied (a throwing sink cancels the transition).</summary>
    public StateMachineBuilder<TEntity> UseAuditSink(ITransitionAuditSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sinks.Add(sink);
        return this;
    }

    /// <summary>The clock for <see cref="TransitionRecord.OccurredAt"/> (default <see cref="TimeProvider.System"/>).</summary>
    public StateMachineBuilder<TEntity> UseTimeProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
        return this;
    }

    /// <summary>The logger for security events (rejected attempts on transitions that write protected fields).</summary>
    public StateMachineBuilder<TEntity> UseLogger(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        return this;
    }

    /// <summary>The meter factory for the <c>hardening.fsm.transitions</c> counter; without one (outside DI) the machine records no metrics.</summary>
    public StateMachineBuilder<TEntity> UseMeterFactory(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meterFactory = meterFactory;
        return this;
    }

    /// <summary>
    /// Validates the definition and compiles it. Every problem (unreachable states, non-terminal dead ends, terminal
    /// states with outgoing transitions, duplicate or ambiguous transitions, history requirements that can never be
    /// met, effects that contradict invariants, invalid names, protected fields with public setters) is reported in one
    /// <see cref="StateMachineDefinitionException"/>.
    /// </summary>
    public StateMachine<TEntity> Build()
    {
        var problems = DefinitionValidator.Validate(this);
        if (problems.Count > 0)
        {
            throw new StateMachineDefinitionException(Name, problems);
        }

        return new StateMachine<TEntity>(MachineCompiler.Compile(this), EntityId, [.. _sinks], _time, _logger, _meterFactory);
    }

    internal StateConfiguration<TEntity> GetOrAdd(string state)
    {
        foreach (var s in _states)
        {
            if (string.Equals(s.Name, state, StringComparison.Ordinal))
            {
                return s;
            }
        }

        var created = new StateConfiguration<TEntity>(this, state);
        _states.Add(created);
        return created;
    }

    private EntityField<T> AddField<T>(Expression<Func<TEntity, T>> property, string column, bool isProtected)
    {
        ArgumentNullException.ThrowIfNull(property);
        ArgumentNullException.ThrowIfNull(column);
        var body = property.Body is UnaryExpression { NodeType: ExpressionType.Convert } u ? u.Operand : property.Body;
        if (body is not MemberExpression { Member: PropertyInfo info } member || member.Expression != property.Parameters[0])
        {
            throw new ArgumentException($"Field '{column}' must be given as a property of the entity, such as 'c => c.IsBlacklisted'; got '{property}'.", nameof(property));
        }

        if (!FieldDefinition.IsSupported(typeof(T)) || info.PropertyType != typeof(T))
        {
            throw new ArgumentException($"Field '{column}' has type {typeof(T).Name}; supported types are bool, int, long, decimal, Guid (or their nullable forms) and string.", nameof(property));
        }

        var definition = new FieldDefinition(this, column, info, typeof(T), isProtected);
        _fields.Add(definition);
        return new EntityField<T>(definition);
    }
}

/// <summary>The configuration of one state, returned by <see cref="StateMachineBuilder{TEntity}.Configure"/>.</summary>
/// <typeparam name="TEntity">The entity type.</typeparam>
public sealed class StateConfiguration<TEntity>
    where TEntity : StatefulEntity
{
    private readonly StateMachineBuilder<TEntity> _builder;
    private readonly List<TransitionConfiguration<TEntity>> _transitions = [];
    private readonly List<string> _onlyAfter = [];
    private readonly List<(string Name, Condition Condition)> _invariants = [];
    private readonly List<(FieldDefinition Field, object? Value)> _effects = [];

    internal StateConfiguration(StateMachineBuilder<TEntity> builder, string name)
    {
        _builder = builder;
        Name = name;
    }

    /// <summary>The state's name.</summary>
    public string Name { get; }

    internal bool IsTerminal { get; private set; }

    internal IReadOnlyList<TransitionConfiguration<TEntity>> Transitions => _transitions;

    internal IReadOnlyList<string> RequiredHistory => _onlyAfter;

    internal IReadOnlyList<(string Name, Condition Condition)> Invariants => _invariants;

    internal IReadOnlyList<(FieldDefinition Field, object? Value)> Effects => _effects;

    /// <summary>Permits <paramref name="trigger"/> to move from this state to <paramref name="target"/>.</summary>
    public TransitionConfiguration<TEntity> Permit(string trigger, string target)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(target);
        _builder.GetOrAdd(target);
        var t = new TransitionConfiguration<TEntity>(this, trigger, target);
        _transitions.Add(t);
        return t;
    }

    /// <summary>Marks the state terminal: nothing may leave it, in C# or in the database.</summary>
    public StateConfiguration<TEntity> Terminal()
    {
        IsTerminal = true;
        return this;
    }

    /// <summary>Entering this state requires that the entity was in <paramref name="requiredState"/> before.</summary>
    public StateConfiguration<TEntity> OnlyAfter(string requiredState)
    {
        ArgumentNullException.ThrowIfNull(requiredState);
        _onlyAfter.Add(requiredState);
        return this;
    }

    /// <summary>Adds a rule that holds whenever an entity is in this state (a CHECK constraint in the database).</summary>
    /// <param name="name">A short name such as <c>left_is_blacklisted</c>; it names the CHECK constraint.</param>
    /// <param name="condition">The rule.</param>
    public StateConfiguration<TEntity> Invariant(string name, Condition condition)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(condition);
        _invariants.Add((name, condition));
        return this;
    }

    /// <summary>Entering this state sets <paramref name="field"/> to <paramref name="value"/> (in C# and in the database trigger).</summary>
    public StateConfiguration<TEntity> OnEntrySet<T>(EntityField<T> field, T value)
    {
        ArgumentNullException.ThrowIfNull(field);
        _effects.Add((field.Definition, value));
        return this;
    }

    /// <summary>Configures another state (for chaining).</summary>
    public StateConfiguration<TEntity> Configure(string state) => _builder.Configure(state);
}

/// <summary>One permitted transition, returned by <see cref="StateConfiguration{TEntity}.Permit"/>; add guards here.</summary>
/// <typeparam name="TEntity">The entity type.</typeparam>
public sealed class TransitionConfiguration<TEntity>
    where TEntity : StatefulEntity
{
    private readonly List<(string Name, Condition? Condition, Func<TEntity, bool>? Predicate)> _guards = [];

    internal TransitionConfiguration(StateConfiguration<TEntity> state, string trigger, string target)
    {
        Source = state;
        Trigger = trigger;
        Target = target;
    }

    /// <summary>The trigger.</summary>
    public string Trigger { get; }

    /// <summary>The target state.</summary>
    public string Target { get; }

    internal StateConfiguration<TEntity> Source { get; }

    internal IReadOnlyList<(string Name, Condition? Condition, Func<TEntity, bool>? Predicate)> Guards => _guards;

    /// <summary>
    /// Adds a guard in the condition model: it is checked by the machine on the entity before the transition and by
    /// the database trigger on the row before the update.
    /// </summary>
    /// <param name="name">A short name reported when the guard fails, e.g. <c>has_salary</c>.</param>
    /// <param name="condition">The rule.</param>
    public TransitionConfiguration<TEntity> Guard(string name, Condition condition)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(condition);
        _guards.Add((name, condition, null));
        return this;
    }

    /// <summary>
    /// Adds a C#-only guard (a pure predicate over the entity). The database cannot check it; prefer the
    /// <see cref="Condition"/> overload for rules that must also hold for direct SQL updates.
    /// </summary>
    /// <param name="name">A short name reported when the guard fails.</param>
    /// <param name="predicate">A pure, fast predicate.</param>
    public TransitionConfiguration<TEntity> Guard(string name, Func<TEntity, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(predicate);
        _guards.Add((name, null, predicate));
        return this;
    }

    /// <summary>Permits another trigger from the same state (for chaining).</summary>
    public TransitionConfiguration<TEntity> Permit(string trigger, string target) => Source.Permit(trigger, target);

    /// <summary>Configures another state (for chaining).</summary>
    public StateConfiguration<TEntity> Configure(string state) => Source.Configure(state);
}
