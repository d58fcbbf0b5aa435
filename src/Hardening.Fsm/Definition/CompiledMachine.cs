using System.Collections.Frozen;
using System.Runtime.CompilerServices;

namespace Hardening.Fsm;

/// <summary>
/// The frozen result of compiling a definition (<see cref="MachineCompiler"/>): states with their compiled
/// invariants and transitions, ready for <see cref="StateMachine{TEntity}"/> to run. Immutable once built.
/// </summary>
internal sealed class CompiledMachine<TEntity>
    where TEntity : StatefulEntity
{
    /// <summary>The owner every <see cref="CompiledState{TEntity}"/> of this machine carries.</summary>
    public required object Owner { get; init; }

    public required FrozenDictionary<string, CompiledState<TEntity>> States { get; init; }

    /// <summary>Per trigger: whether some transition it fires enters a state whose effects set a protected field.</summary>
    public required FrozenDictionary<string, bool> TriggerTouchesProtected { get; init; }

    /// <summary>The definition as data, for export and SQL generation.</summary>
    public required MachineModel Model { get; init; }
}

/// <summary>A compiled state; the entity caches it (<see cref="MachineStateCache"/>) with its machine as owner.</summary>
internal sealed class CompiledState<TEntity>(object owner, string name, bool isTerminal, (string Name, Func<TEntity, bool> Holds)[] invariants)
    : MachineStateCache(owner, name)
    where TEntity : StatefulEntity
{
    public bool IsTerminal { get; } = isTerminal;

    public (string Name, Func<TEntity, bool> Holds)[] Invariants { get; } = invariants;

    // Parallel arrays; a state has a handful of triggers, so a scan beats hashing. Set once, while compiling.
    public string[] Triggers { get; set; } = [];

    public CompiledTransition<TEntity>[] Transitions { get; set; } = [];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public CompiledTransition<TEntity>? Find(string trigger)
    {
        var triggers = Triggers;
        for (var i = 0; i < triggers.Length; i++)
        {
            if (ReferenceEquals(triggers[i], trigger) || string.Equals(triggers[i], trigger, StringComparison.Ordinal))
            {
                return Transitions[i];
            }
        }

        return null;
    }
}

/// <summary>A compiled transition: guards, history requirements, target invariants with the entry effects folded in, effects.</summary>
internal sealed record CompiledTransition<TEntity>(
    string From,
    string Trigger,
    string To,
    (string Name, Func<TEntity, bool> Holds)[] Guards,
    string[] RequiredHistory,
    (string Name, Func<TEntity, bool> Holds)[] PostInvariants,
    Action<TEntity>[] Effects,
    bool TargetIsTerminal,
    CompiledState<TEntity> Target)
    where TEntity : StatefulEntity;
