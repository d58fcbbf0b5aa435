using System.Collections.Concurrent;

namespace Hardening.Sse;

/// <summary>
/// The newest event this instance saw per stream (a live notification or a read): what proves that a stream went
/// backwards. Bounded: past <see cref="MaxTrackedStreams"/> the marks are dropped, which only weakens detection.
/// </summary>
internal sealed class StreamHighWater
{
    private const int MaxTrackedStreams = 100_000;
    private readonly ConcurrentDictionary<string, Mark> _marks = new(StringComparer.Ordinal);

    public bool TryGet(string stream, out Mark mark) => _marks.TryGetValue(stream, out mark);

    public void Forget(string stream) => _marks.TryRemove(stream, out _);

    /// <summary>
    /// Records <paramref name="e"/> as the stream's mark; returns the previous mark when the event is behind it in the
    /// same epoch (a lower sequence, or the same sequence with another publication time), which is either a
    /// notification lagging a read or a stream that lost its newest entries.
    /// </summary>
    public Mark? Behind(SseEvent e)
    {
        while (true)
        {
            if (!_marks.TryGetValue(e.Stream, out var seen))
            {
                if (_marks.Count >= MaxTrackedStreams)
                {
                    _marks.Clear(); // bounded memory; losing the marks only weakens detection, never delivery
                }

                if (_marks.TryAdd(e.Stream, new Mark(e.Epoch, e.Sequence, e.PublishedAt)))
                {
                    return null;
                }

                continue;
            }

            if (seen.Epoch == e.Epoch && (seen.Sequence > e.Sequence || (seen.Sequence == e.Sequence && seen.PublishedAt != e.PublishedAt)))
            {
                return seen;
            }

            if (seen.Epoch == e.Epoch && seen.Sequence == e.Sequence)
            {
                return null;
            }

            if (_marks.TryUpdate(e.Stream, new Mark(e.Epoch, e.Sequence, e.PublishedAt), seen))
            {
                return null;
            }
        }
    }

    internal readonly record struct Mark(string Epoch, long Sequence, DateTimeOffset PublishedAt);
}
