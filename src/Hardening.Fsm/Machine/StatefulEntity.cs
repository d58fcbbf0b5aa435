namespace Hardening.Fsm;

/// <summary>
/// Base class of entities driven by a <see cref="StateMachine{TEntity}"/>. The current state, the version and the set
/// of visited states have no public setters: only the machine changes them, atomically with the entry effects on
/// protected fields (declare those properties with a private setter).
/// </summary>
public abstract class StatefulEntity
{
    private readonly Lock _gate = new();
    private volatile string _state;
    private long _version;
    private int _seq;
    private volatile string[] _visited;

    /// <summary>Creates an entity in <paramref name="state"/> (the machine's initial state for a new entity, or the stored one when loading).</summary>
    /// <param name="state">The current state.</param>
    /// <param name="version">The stored version (0 for a new entity); each accepted transition adds one.</param>
    /// <param name="visitedStates">States visited before, for history requirements (the current state counts as visited).</param>
    protected StatefulEntity(string state, long version = 0, IEnumerable<string>? visitedStates = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(state);
        _state = state;
        _version = version;
        var visited = new List<string> { state };
        if (visitedStates is not null)
        {
            foreach (var s in visitedStates)
            {
                if (!visited.Contains(s, StringComparer.Ordinal))
                {
                    visited.Add(s);
                }
            }
        }

        _visited = [.. visited];
    }

    /// <summary>The current state.</summary>
    public string State => _state;

    /// <summary>The number of accepted transitions applied to the stored version (for optimistic concurrency and ETags).</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Every state this entity has been in, including the current one.</summary>
    public IReadOnlyList<string> VisitedStates => _visited;

    internal Lock Gate => _gate;

    /// <summary>The machine's compiled view of the current state (a benign cache: checked by reference before use).</summary>
    internal MachineStateCache? StateCache { get; set; }

    /// <summary>
    /// Seqlock for lock-free rejections: odd while a transition is being applied. Readers that saw an even value and
    /// see the same value after their checks read a consistent entity.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal int BeginRead()
    {
        var seq = Volatile.Read(ref _seq);
        return (seq & 1) == 0 ? seq : WaitForWriter();
    }

    /// <summary>
    /// Test seam: called with the entity each time a reader finds a transition in progress and waits, so a test can hold a
    /// writer half-way and know the reader is waiting. Null outside tests; only the waiting (slow) path reads it.
    /// </summary>
    internal static Action<StatefulEntity>? OnWaitingForWriter { get; set; }

    private int WaitForWriter()
    {
        var spin = default(SpinWait);
        while (true)
        {
            var seq = Volatile.Read(ref _seq);
            if ((seq & 1) == 0)
            {
                return seq;
            }

            OnWaitingForWriter?.Invoke(this);
            spin.SpinOnce();
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal bool Unchanged(int seq)
    {
        // x86/x64 never reorder loads with loads; elsewhere a full fence keeps the checks' reads before this one.
        if (!MachineStateCache.TotalStoreOrder)
        {
            Interlocked.MemoryBarrier();
        }

        return Volatile.Read(ref _seq) == seq;
    }

    /// <summary>Called by the machine while holding <see cref="Gate"/>, before the entry effects.</summary>
    internal void BeginWrite() => Interlocked.Increment(ref _seq);

    /// <summary>Called by the machine while holding <see cref="Gate"/>, after <see cref="Commit"/>.</summary>
    internal void EndWrite() => Interlocked.Increment(ref _seq);

    internal bool HasVisited(string state) => Array.IndexOf(_visited, state) >= 0;

    /// <summary>Called by the machine while holding <see cref="Gate"/>.</summary>
    internal long Commit(string newState)
    {
        if (!HasVisited(newState))
        {
            _visited = [.. _visited, newState];
        }

        var version = _version + 1;
        Volatile.Write(ref _version, version);
        _state = newState;
        return version;
    }
}

/// <summary>Non-generic base of a machine's compiled state, so the entity's cache needs no generic type check.</summary>
internal abstract class MachineStateCache(object owner, string name)
{
    public static readonly bool TotalStoreOrder =
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture is System.Runtime.InteropServices.Architecture.X64 or System.Runtime.InteropServices.Architecture.X86;

    public object Owner { get; } = owner;

    public string Name { get; } = name;
}
