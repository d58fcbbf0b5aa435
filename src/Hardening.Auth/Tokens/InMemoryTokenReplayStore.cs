using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Hardening.Auth;

/// <summary>
/// A bounded in-process replay store for a single instance. Segmented dictionaries keyed by the 32-byte hash; no
/// allocation per call once warm. Expired entries are swept when the bound is reached; a live entry is never evicted:
/// when full of live entries it answers <see cref="ReplayStoreResult.Full"/> and the guard refuses (fail closed).
/// </summary>
internal sealed class InMemoryTokenReplayStore : ITokenReplayStore
{
    private const int SegmentCount = 32;
    private readonly Segment[] _segments;
    private readonly TimeProvider _time;
    private readonly int _maxEntries;
    private readonly Lock _sweepGate = new();
    private int _count;
    private long _earliestExpiry = long.MaxValue;
    private readonly DateTimeOffset _createdAt;

    public InMemoryTokenReplayStore(int maxEntries, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        ArgumentNullException.ThrowIfNull(time);
        _maxEntries = maxEntries;
        _time = time;
        _createdAt = time.GetUtcNow();
        _segments = new Segment[SegmentCount];
        for (var i = 0; i < _segments.Length; i++)
        {
            _segments[i] = new Segment();
        }
    }

    public string Name => "memory";

    /// <summary>Entries held, live or expired-but-not-yet-swept.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Memory starts with this process: a restart forgets every consumed id.</summary>
    public ValueTask<ReplayStoreAnswer> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, DateTimeOffset now, CancellationToken cancellationToken) =>
        new(new ReplayStoreAnswer(TryAdd(key, retainUntil.UtcTicks), _createdAt));

    public ReplayStoreResult TryAdd(ReplayKey key, long retainUntilTicks)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var segment = _segments[key.Bucket & (SegmentCount - 1)];
        for (var attempt = 0; attempt < 2; attempt++)
        {
            lock (segment.Gate)
            {
                ref var until = ref CollectionsMarshal.GetValueRefOrNullRef(segment.Map, key);
                if (!Unsafe.IsNullRef(ref until))
                {
                    if (until > now)
                    {
                        return ReplayStoreResult.Exists;
                    }

                    until = retainUntilTicks;
                    NoteExpiry(retainUntilTicks);
                    return ReplayStoreResult.Added;
                }

                if (Interlocked.Increment(ref _count) <= _maxEntries)
                {
                    segment.Map.Add(key, retainUntilTicks);
                    NoteExpiry(retainUntilTicks);
                    return ReplayStoreResult.Added;
                }

                Interlocked.Decrement(ref _count);
            }

            // Full: drop expired entries (never live ones) and try once more.
            if (attempt == 0 && !Sweep(now))
            {
                break;
            }
        }

        return ReplayStoreResult.Full;
    }

    /// <summary>Removes expired entries; false when nothing can have expired yet (so a sweep would be wasted work).</summary>
    private bool Sweep(long now)
    {
        lock (_sweepGate)
        {
            if (Volatile.Read(ref _count) < _maxEntries)
            {
                return true; // another caller swept meanwhile
            }

            if (now < Volatile.Read(ref _earliestExpiry))
            {
                return false;
            }

            var earliest = long.MaxValue;
            var removed = 0;
            foreach (var segment in _segments)
            {
                lock (segment.Gate)
                {
                    foreach (var (key, until) in segment.Map)
                    {
                        if (until <= now)
                        {
                            segment.Map.Remove(key);
                            removed++;
                        }
                        else if (until < earliest)
                        {
                            earliest = until;
                        }
                    }
                }
            }

            Interlocked.Add(ref _count, -removed);
            Volatile.Write(ref _earliestExpiry, earliest);
            return removed > 0;
        }
    }

    private void NoteExpiry(long until)
    {
        var current = Volatile.Read(ref _earliestExpiry);
        while (until < current)
        {
            var seen = Interlocked.CompareExchange(ref _earliestExpiry, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private sealed class Segment
    {
        public Lock Gate { get; } = new();

        public Dictionary<ReplayKey, long> Map { get; } = [];
    }
}
