using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Hardening.Redis;

/// <summary>
/// The per-command state: it is the source of the reply's <see cref="ValueTask{TResult}"/> and is pooled.
/// Two owners hold it (the awaiting caller and the connection's FIFO); it returns to the pool when both let go,
/// so a reply that arrives after a timeout or cancellation lands on the right (already completed) command.
/// </summary>
internal sealed class PendingCommand : IValueTaskSource<RespReply>
{
    private const int PoolSize = 512;
    private static readonly PendingCommand?[] Pool = new PendingCommand?[PoolSize];
    private static readonly Action<object?> CancelCallback = static s => ((PendingCommand)s!).OnCanceled();

    private ManualResetValueTaskSourceCore<RespReply> _core = new() { RunContinuationsAsynchronously = true };

    // bit 0: completed; bits 1..31: generation (guards the heartbeat against a command recycled under it).
    private int _state = 1;
    private int _owners;
    private long _deadline;
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;

    /// <summary>Stopwatch timestamp after which the command times out; 0 for never.</summary>
    public long Deadline => Volatile.Read(ref _deadline);

    public int State => Volatile.Read(ref _state);

    public ValueTask<RespReply> Task => new(this, _core.Version);

    public static PendingCommand Rent(TimeSpan timeout)
    {
        PendingCommand? command = null;
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < 4; i++)
        {
            command = Interlocked.Exchange(ref Pool[(start + i) & (PoolSize - 1)], null);
            if (command is not null)
            {
                break;
            }
        }

        command ??= new PendingCommand();
        command._owners = 2;
        command._deadline = timeout == Timeout.InfiniteTimeSpan ? 0 : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        Volatile.Write(ref command._state, (command._state & ~1) + 2);
        return command;
    }

    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _token = cancellationToken;
            _registration = cancellationToken.UnsafeRegister(CancelCallback, this);
        }
    }

    public bool TrySetResult(RespReply value)
    {
        if (!TryClaim(Volatile.Read(ref _state)))
        {
            return false;
        }

        _core.SetResult(value);
        return true;
    }

    public bool TrySetException(Exception exception) => TrySetException(Volatile.Read(ref _state), exception);

    /// <summary>Completes with <paramref name="exception"/> only if still in generation <paramref name="state"/>.</summary>
    public bool TrySetException(int state, Exception exception)
    {
        if (!TryClaim(state))
        {
            return false;
        }

        _core.SetException(exception);
        return true;
    }

    /// <summary>The connection's FIFO is done with this command.</summary>
    public void ReleaseFromConnection() => Release();

    RespReply IValueTaskSource<RespReply>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _registration.Dispose();
            _registration = default;
            _token = default;
            Release();
        }
    }

    ValueTaskSourceStatus IValueTaskSource<RespReply>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<RespReply>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private bool TryClaim(int state) =>
        (state & 1) == 0 && Interlocked.CompareExchange(ref _state, state | 1, state) == state;

    private void OnCanceled() => TrySetException(new OperationCanceledException(_token));

    private void Release()
    {
        if (Interlocked.Decrement(ref _owners) != 0)
        {
            return;
        }

        _core.Reset();
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < 4; i++)
        {
            if (Interlocked.CompareExchange(ref Pool[(start + i) & (PoolSize - 1)], this, null) is null)
            {
                return;
            }
        }
    }
}
