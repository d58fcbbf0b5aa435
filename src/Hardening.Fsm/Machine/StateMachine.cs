using System.Collections.Frozen;
using System.Runtime.CompilerServices;
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
    private readonly FrozenDictionary<string, CompiledState<TEntity>> _states;
    private readonly FrozenDictionary<string, bool> _triggerTouchesProtected;
    private readonly object _owner;
    private readonly ITransitionAuditSink[] _sinks;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly FsmMetrics _metrics;
    private readonly Func<TEntity, string> _entityId;

    internal StateMachine(CompiledMachine<TEntity> compiled, Func<TEntity, string> entityId, ITransitionAuditSink[] sinks, TimeProvider time, ILogger? logger, IMeterFactory? meterFactory)
    {
        Model = compiled.Model;
        Name = Model.Name;
        _states = compiled.States;
        _triggerTouchesProtected = compiled.TriggerTouchesProtected;
        _owner = compiled.Owner;
        _sinks = sinks;
        _time = time;
        _logger = logger;
        _entityId = entityId;
        _metrics = new FsmMetrics(Name, meterFactory);
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
        Actor.Check(actor.Kind); // an Actor made by its constructor is valid; this catches default-initialised memory tricks

        // A stale expectation is decided on one volatile read (the state), before any snapshot: the cheapest rejection.
        var state = entity.State;
        if (!string.Equals(state, expectedState))
        {
            return Reject(entity, RejectionReason.StaleState, state, trigger, null, actor);
        }

        while (true)
        {
            // Decisions are made without the lock on a seqlock snapshot; only an accepted transition locks, and it
            // commits only if nothing committed since the snapshot (compare-and-swap), otherwise it decides again.
            var seq = entity.BeginRead();
            state = entity.State;
            if (!string.Equals(state, expectedState, StringComparison.Ordinal))
            {
                return Reject(entity, RejectionReason.StaleState, state, trigger, null, actor);
            }

            if (IsBlank(actor.Id))
            {
                return Reject(entity, RejectionReason.ActorMissing, state, trigger, null, actor);
            }

            if (IsBlank(reason))
            {
                return Reject(entity, RejectionReason.ReasonMissing, state, trigger, null, actor);
            }

            var current = StateOf(entity, state);
            if (current is null)
            {
                return Reject(entity, RejectionReason.NotPermitted, state, trigger, null, actor);
            }

            var transition = current.Find(trigger);
            if (transition is null)
            {
                return Reject(entity, current.IsTerminal ? RejectionReason.Terminal : RejectionReason.NotPermitted, state, trigger, null, actor);
            }

            var failure = Evaluate(transition, entity, out var detail);
            if (failure != RejectionReason.None)
            {
                if (entity.Unchanged(seq))
                {
                    return Reject(entity, failure, state, trigger, detail, actor);
                }

                continue;
            }

            // The lock lives in its own method so this one has no exception-handling region (better code for the hot path).
            var record = TryCommit(entity, transition, actor, reason, seq);
            if (record is null)
            {
                continue;
            }

            _metrics.Record(RejectionReason.None);
            return TransitionResult.Accept(record);
        }
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

    private TransitionRecord? TryCommit(TEntity entity, CompiledTransition<TEntity> transition, Actor actor, string reason, int seq)
    {
        lock (entity.Gate)
        {
            if (!entity.Unchanged(seq))
            {
                return null;
            }

            var record = new TransitionRecord(Name, _entityId(entity), transition.From, transition.To, transition.Trigger, actor, reason, _time.GetUtcNow(), transition.TargetIsTerminal, entity.Version + 1);
            foreach (var sink in _sinks)
            {
                sink.Write(record);
            }

            entity.BeginWrite();
            try
            {
                foreach (var effect in transition.Effects)
                {
                    effect(entity);
                }

                entity.Commit(transition.To);
                entity.StateCache = transition.Target;
            }
            finally
            {
                entity.EndWrite();
            }

            return record;
        }
    }

    private static RejectionReason Evaluate(CompiledTransition<TEntity> transition, TEntity entity, out string? detail)
    {
        foreach (var (name, holds) in transition.Guards)
        {
            if (!holds(entity))
            {
                detail = name;
                return RejectionReason.GuardFailed;
            }
        }

        foreach (var required in transition.RequiredHistory)
        {
            if (!entity.HasVisited(required))
            {
                detail = required;
                return RejectionReason.HistoryMissing;
            }
        }

        // Invariants of the target state with the entry effects folded in: checked before anything changes.
        foreach (var (name, holds) in transition.PostInvariants)
        {
            if (!holds(entity))
            {
                detail = name;
                return RejectionReason.InvariantWouldBreak;
            }
        }

        detail = null;
        return RejectionReason.None;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private CompiledState<TEntity>? StateOf(TEntity entity, string state)
    {
        var cached = entity.StateCache;
        if (cached is not null && ReferenceEquals(cached.Owner, _owner) && ReferenceEquals(cached.Name, state))
        {
            // The owner is this machine's, so the entry is one of its compiled states.
            return Unsafe.As<CompiledState<TEntity>>(cached);
        }

        if (!_states.TryGetValue(state, out var found))
        {
            return null;
        }

        // Benign race: concurrent writers store equally valid values; readers check name and owner by reference.
        entity.StateCache = found;
        return found;
    }

    /// <summary>Null, empty or only ASCII whitespace: the same test the generated trigger makes with btrim.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsBlank(string? value)
    {
        if (value is null)
        {
            return true;
        }

        if (value.Length > 0 && value[0] > ' ')
        {
            return false;
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

    // Inlined into TryFire: a rejection is a counter check and a struct, with no call unless a logger is configured.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TransitionResult Reject(TEntity entity, RejectionReason reason, string state, string trigger, string? detail, Actor actor)
    {
        _metrics.Record(reason);
        if (_logger is not null)
        {
            LogRejection(entity, reason, state, trigger, actor);
        }

        return TransitionResult.Reject(reason, state, trigger, detail);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LogRejection(TEntity entity, RejectionReason reason, string state, string trigger, Actor actor)
    {
        if (_triggerTouchesProtected.TryGetValue(trigger, out var touches) && touches && _logger!.IsEnabled(LogLevel.Warning))
        {
            FsmLog.ProtectedTransitionRejected(_logger, Name, _entityId(entity), state, trigger, reason, Actor.KindName(actor.Kind), actor.Id);
        }
    }
}
