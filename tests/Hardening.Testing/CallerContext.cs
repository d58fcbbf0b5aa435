namespace Hardening.Testing;

/// <summary>
/// A caller's <see cref="SynchronizationContext"/> (a UI thread's, or legacy ASP.NET's) that counts what is posted to
/// it. Library code must not resume its awaits on it: a caller that blocks on the task would deadlock. Start an
/// operation with <see cref="Run"/> or <see cref="Value{T}"/> (the context is current while the operation starts and
/// runs synchronously, as it would be for such a caller) and assert <see cref="Posts"/> stays 0. Only an await that
/// really waits can post, so put a slow link in front of the server (<see cref="RoundTripProxy"/> with a reply delay).
/// </summary>
public sealed class CallerContext : SynchronizationContext
{
    private int _posts;

    /// <summary>Continuations posted to this context so far (each still runs, on the thread pool with this context current).</summary>
    public int Posts => Volatile.Read(ref _posts);

    /// <summary>Starts <paramref name="start"/> with this context current, then awaits the task outside it.</summary>
    public async Task Run(Func<Task> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var previous = Current;
        SetSynchronizationContext(this);
        Task task;
        try
        {
            task = start();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }

        await task.ConfigureAwait(false);
    }

    /// <summary>Starts <paramref name="start"/> with this context current and returns its value.</summary>
    public async Task<T> Value<T>(Func<Task<T>> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        Task<T>? task = null;
        await Run(() => task = start()).ConfigureAwait(false);
        return await task!.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state)
    {
        Interlocked.Increment(ref _posts);
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                d(state);
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }, null);
    }

    /// <inheritdoc />
    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("Send");

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;
}
