using System.Collections.Frozen;
using System.Linq.Expressions;
using Microsoft.Extensions.Logging;
using System.Diagnostics.Metrics;

namespace Hardening.Fsm;

/// <summary>
/// A compiled, immutable state machine shared by all entities of a type and safe to use from many threads.
/// <see cref="TryFire"/> decides and applies a transition atomically; it also exports diagrams and generates the
/// PostgreSQL enforcement for the same rules.
/// </summary>
/// <typeparam name="TEntity">The entity type.</typeparam>
public sealed class StateMachine<TEntity>
    where TEntity : StatefulEntity
{
    private readonly FrozenDictionary<string, int> _triggers;
    private readonly FrozenDictionary<string, CompiledState> _states;
    private readonly bool[] _triggerTouchesProtected;
    private readonly ITransitionAuditSink[] _sinks;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly TransitionMetrics _metrics;
    private readonly Func<TEntity, string> _entityId;
    private readonly (string Name, Func<TEntity, bool> Holds)[] _globalInvariants;

    internal StateMachine(StateMachineBuilder<TEntity> b, ITransitionAuditSink[] sinks, TimeProvider time, ILogger? logger, IMeterFactory? meterFactory)
    {
        Name = b.Name;
        _sinks = sinks;
        _time = time;
        _logger = logger;
        _entityId = b.EntityId;
        _metrics = new TransitionMetrics(b.Name, meterFactory);

        var triggerNames = b.States.SelectMany(s => s.Transitions.Select(t => t.Trigger)).Distinct(StringComparer.Ordinal).ToArray();
        _triggers = triggerNames.Select((t, i) => KeyValuePair.Create(t, i)).ToFrozenDictionary(StringComparer.Ordinal);
        var canonical = b.States.ToDictionary(s => s.Name, s => s.Name, StringComparer.Ordinal);
        _globalInvariants = [.. b.GlobalInvariants.Select(i => (i.Name, ConditionCompiler.Compile<TEntity>(i.Condition)))];

        var compiled = new Dictionary<string, CompiledState>(StringComparer.Ordinal);
        _triggerTouchesProtected = new bool[triggerNames.Length];
        foreach (var s in b.States)
        {
            var byTrigger = new CompiledTransition?[triggerNames.Length];
            foreach (var t in s.Transitions)
            {
                var target = b.States.First(x => string.Equals(x.Name, t.Target, StringComparison.Ordinal));
                var index = _triggers[t.Trigger];
                byTrigger[index] = Compile(b, s, t, target, canonical);
                if (target.Effects.Any(e => e.Field.IsProtected))
                {
                    _triggerTouchesProtected[index] = true;
                }
            }

            var invariants = s.Invariants.Select(i => (i.Name, ConditionCompiler.Compile<TEntity>(i.Condition))).Concat(_globalInvariants).ToArray();
            compiled[s.Name] = new CompiledState(s.Name, s.IsTerminal, byTrigger, invariants);
        }

        _states = compiled.ToFrozenDictionary(StringComparer.Ordinal);

        Model = new MachineModel
        {
            Name = b.Name,
            Initial = b.Initial!,
            States = [.. b.States.Select(s => new StateModel(s.Name, s.IsTerminal, [.. s.RequiredHistory], [.. s.Invariants], [.. s.Effects]))],
            Transitions = [.. b.States.SelectMany(s => s.Transitions.Select(t => new TransitionModel(s.Name, t.Trigger, t.Target, [.. t.Guards.Select(g => (g.Name, g.Condition))])))],
            GlobalInvariants = [.. b.GlobalInvariants],
            Fields = [.. b.Fields],
        };
        States = [.. Model.States.Select(s => s.Name)];
        TerminalStates = [.. Model.States.Where(s => s.IsTerminal).Select(s => s.Name)];
        Transitions = [.. Model.Transitions.Select(t => new TransitionInfo(t.From, t.Trigger, t.To, [.. t.Guards.Select(g => g.Name)]))];
    }

    /// <summary>The machine's name.</summary>
    public string Name { get; }

    /// <summary>The state new entities start in.</summary>
    public string InitialState => Model.Initial;

    /// <summary>Every state, in order of first mention in the definition.</summary>
    public IReadOnlyList<string> States { get; }

    /// <summary>The terminal states.</summary>
    public IReadOnlyList<string> TerminalStates { get; }

    /// <summary>Every transition.</summary>
    public IReadOnlyList<TransitionInfo> Transitions { get; }

    internal MachineModel Model { get; }

    /// <summary>
    /// Fires <paramref name="trigger"/> on <paramref name="entity"/> if it is still in <paramref name="expectedState"/>.
    /// Either the whole transition applies (state, entry effects, version, visited states) and an audit record is
    /// returned, or nothing changes and the result carries a <see cref="RejectionReason"/>. Of two racing calls from the
    /// same expected state exactly one is accepted; the other gets <see cref="RejectionReason.StaleState"/>.
    /// </summary>
    /// <param name="entity">The entity.</param>
    /// <param name="trigger">The trigger, e.g. <c>hire</c>.</param>
    /// <param name="actor">Who fires it.</param>
    /// <param name="reason">Why (required, not blank).</param>
    /// <param name="expectedState">The state the caller saw and expects to leave.</param>
    /// <example>
    /// <code>
    /// var result = machine.TryFire(candidate, "hire", Actor.User("recruiter-7"), "Signed offer received", "OFFER");
    /// if (!result.Accepted) return Results.Conflict(result.Message);
    /// </code>
    /// </example>
    public TransitionResult TryFire(TEntity entity, string trigger, Actor actor, string reason, string expectedState)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(expectedState);

        if (!_triggers.TryGetValue(trigger, out var triggerIndex))
        {
            triggerIndex = -1;
        }

        // Version first, then state: Commit writes them in the same order, so a match of both under the lock means
        // nothing committed in between.
        var version = entity.Version;
        var state = entity.State;
        if (!string.Equals(state, expectedState, StringComparison.Ordinal))
        {
            return Reject(entity, RejectionReason.StaleState, state, trigger, null, actor, triggerIndex);
        }

        if (IsBlank(actor.Id))
        {
            return Reject(entity, RejectionReason.ActorMissing, state, trigger, null, actor, triggerIndex);
        }

        if (IsBlank(reason))
        {
            return Reject(entity, RejectionReason.ReasonMissing, state, trigger, null, actor, triggerIndex);
        }

        if (triggerIndex < 0 || !_states.TryGetValue(state, out var current))
        {
            return Reject(entity, RejectionReason.NotPermitted, state, trigger, null, actor, triggerIndex);
        }

        var transition = current.ByTrigger[triggerIndex];
        if (transition is null)
        {
            return Reject(entity, current.IsTerminal ? RejectionReason.Terminal : RejectionReason.NotPermitted, state, trigger, null, actor, triggerIndex);
        }

        TransitionRecord record;
        lock (entity.Gate)
        {
            // Compare-and-swap: the state seen above must still be current when the transition commits.
            if (entity.Version != version || !ReferenceEquals(entity.State, state))
            {
                return Reject(entity, RejectionReason.StaleState, entity.State, trigger, null, actor, triggerIndex);
            }

            foreach (var (name, holds) in transition.Guards)
            {
                if (!holds(entity))
                {
                    return Reject(entity, RejectionReason.GuardFailed, state, trigger, name, actor, triggerIndex);
                }
            }

            foreach (var required in transition.RequiredHistory)
            {
                if (!entity.HasVisited(required))
                {
                    return Reject(entity, RejectionReason.HistoryMissing, state, trigger, required, actor, triggerIndex);
                }
            }

            // Invariants of the target state with the entry effects folded in: checked before anything changes.
            foreach (var (name, holds) in transition.PostInvariants)
            {
                if (!holds(entity))
                {
                    return Reject(entity, RejectionReason.InvariantWouldBreak, state, trigger, name, actor, triggerIndex);
                }
            }

            record = new TransitionRecord(Name, _entityId(entity), transition.From, transition.To, transition.Trigger, actor, reason, _time.GetUtcNow(), transition.TargetIsTerminal, version + 1);
            foreach (var sink in _sinks)
            {
                sink.Write(record);
            }

            foreach (var effect in transition.Effects)
            {
                effect(entity);
            }

            entity.Commit(transition.To);
        }

        _metrics.Record(RejectionReason.None);
        return TransitionResult.Accept(record);
    }

    /// <summary>
    /// The names of the invariants that do not hold for <paramref name="entity"/> in its current state (empty when all
    /// hold). Call it after changing unprotected fields, before saving: the database's CHECK constraints enforce the same rules.
    /// </summary>
    public IReadOnlyList<string> CheckInvariants(TEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!_states.TryGetValue(entity.State, out var current))
        {
            return [$"unknown state '{entity.State}'"];
        }

        return [.. current.Invariants.Where(i => !i.Holds(entity)).Select(i => i.Name)];
    }

    /// <summary>The triggers permitted from <paramref name="state"/> (guards not evaluated).</summary>
    public IReadOnlyList<string> PermittedTriggers(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return [.. Transitions.Where(t => string.Equals(t.From, state, StringComparison.Ordinal)).Select(t => t.Trigger)];
    }

    /// <summary>A Mermaid <c>stateDiagram-v2</c> of the machine.</summary>
    public string ToMermaid() => GraphExport.Mermaid(Model);

    /// <summary>A Graphviz DOT digraph of the machine.</summary>
    public string ToDot() => GraphExport.Dot(Model);

    /// <summary>
    /// Idempotent PostgreSQL that enforces this machine on an existing table: a CHECK on the status values, CHECK
    /// constraints for the invariants, a transitions table, an append-only audit table and triggers that reject
    /// disallowed transitions, leaving a terminal state, missing history and direct changes to protected fields, with
    /// the SQLSTATEs listed in <see cref="FsmSqlState"/>.
    /// </summary>
    /// <param name="mapping">The table and its id and status columns.</param>
    public string ToPostgresSql(PostgresTableMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return PostgresScriptGenerator.Generate(Model, mapping);
    }

    private static CompiledTransition Compile(StateMachineBuilder<TEntity> b, StateConfiguration<TEntity> source, TransitionConfiguration<TEntity> t, StateConfiguration<TEntity> target, Dictionary<string, string> canonical)
    {
        var guards = t.Guards.Select(g => (g.Name, g.Predicate ?? ConditionCompiler.Compile<TEntity>(g.Condition!))).ToArray();
        var known = new Dictionary<FieldDefinition, object?>();
        foreach (var (f, v) in target.Effects)
        {
            known[f] = v;
        }

        var post = target.Invariants.Concat(b.GlobalInvariants)
            .Select(i => (i.Name, Condition: ConditionCompiler.Substitute(i.Condition, known)))
            .Where(i => i.Condition is not ConstantCondition { Value: true })
            .Select(i => (i.Name, ConditionCompiler.Compile<TEntity>(i.Condition)))
            .ToArray();
        var effects = target.Effects.Select(e => CompileSetter(e.Field, e.Value)).ToArray();
        return new CompiledTransition(canonical[source.Name], t.Trigger, canonical[target.Name], guards, [.. target.RequiredHistory.Select(h => canonical[h])], post, effects, target.IsTerminal);
    }

    /// <summary>Null, empty or only ASCII whitespace: the same test the generated trigger makes with btrim.</summary>
    private static bool IsBlank(string? value)
    {
        if (value is null)
        {
            return true;
        }

        foreach (var ch in value)
        {
            if (ch is not (' ' or '\t' or '\n' or '\v' or '\f' or '\r'))
            {
                return false;
            }
        }

        return true;
    }

    private static Action<TEntity> CompileSetter(FieldDefinition field, object? value)
    {
        var p = Expression.Parameter(typeof(TEntity), "entity");
        var assign = Expression.Assign(Expression.Property(p, field.Property), Expression.Constant(value, field.ValueType));
        return Expression.Lambda<Action<TEntity>>(assign, p).Compile();
    }

    private TransitionResult Reject(TEntity entity, RejectionReason reason, string state, string trigger, string? detail, Actor actor, int triggerIndex)
    {
        _metrics.Record(reason);
        if (triggerIndex >= 0 && _logger is not null && _triggerTouchesProtected[triggerIndex] && _logger.IsEnabled(LogLevel.Warning))
        {
            FsmLog.ProtectedTransitionRejected(_logger, Name, _entityId(entity), state, trigger, reason, Actor.KindName(actor.Kind), actor.Id);
        }

        return TransitionResult.Reject(reason, state, trigger, detail);
    }

    private sealed record CompiledState(string Name, bool IsTerminal, CompiledTransition?[] ByTrigger, (string Name, Func<TEntity, bool> Holds)[] Invariants);

    private sealed record CompiledTransition(
        string From,
        string Trigger,
        string To,
        (string Name, Func<TEntity, bool> Holds)[] Guards,
        string[] RequiredHistory,
        (string Name, Func<TEntity, bool> Holds)[] PostInvariants,
        Action<TEntity>[] Effects,
        bool TargetIsTerminal);
}
