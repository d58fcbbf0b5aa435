using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Hardening.Redis;

/// <summary>
/// A reconnecting slot for one physical connection (the multiplexed one, or the subscriber): reconnects with
/// exponential backoff and jitter, reports state changes, and makes commands wait for an attempt in progress
/// (up to connectTimeout) or fail fast while it is down.
/// </summary>
internal sealed class ManagedConnection
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(30);
    private readonly RedisConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly string _role;
    private readonly Func<RespValue, bool>? _pushHandler;
    private readonly Func<PhysicalConnection, CancellationToken, Task>? _afterConnect;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private PhysicalConnection? _current;
    private TaskCompletionSource<PhysicalConnection> _ready = NewReady();
    private RedisConnectionState _state = RedisConnectionState.Connecting;
    private Exception? _lastError;
    private int _reconnecting;
    private long _lastKeepAlive = Stopwatch.GetTimestamp();

    public ManagedConnection(RedisConnectionOptions options, ILogger logger, string role, Func<RespValue, bool>? pushHandler = null, Func<PhysicalConnection, CancellationToken, Task>? afterConnect = null)
    {
        _options = options;
        _logger = logger;
        _role = role;
        _pushHandler = pushHandler;
        _afterConnect = afterConnect;
    }

    public event Action<RedisConnectionState>? StateChanged;

    public RedisConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    public Exception? LastError => _lastError;

    public void Start() => StartReconnect();

    public ValueTask<RespReply> SendAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is not null && !current.IsDead)
        {
            return current.SendAsync(state, write, timeout, cancellationToken);
        }

        return SendSlowAsync(state, write, timeout, cancellationToken);
    }

    /// <summary>Sends only if connected right now; used where a later resubscribe covers the disconnected case.</summary>
    public ValueTask<RespReply>? TrySendNow<TState>(TState state, Action<IBufferWriter<byte>, TState> write, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var current = _current;
        return current is not null && !current.IsDead ? current.SendAsync(state, write, timeout, cancellationToken) : null;
    }

    public async ValueTask<PhysicalConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        Task<PhysicalConnection> ready;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_state == RedisConnectionState.Disposed, typeof(RedisConnection));
            if (_current is { IsDead: false } live)
            {
                return live;
            }

            ready = _ready.Task;
        }

        if (_current is { IsDead: true } dead)
        {
            OnFailed(dead, dead.Failure ?? new RedisConnectionException("The connection closed."));
        }

        lock (_gate)
        {
            if (_state == RedisConnectionState.Disconnected)
            {
                throw new RedisConnectionException(
                    $"Redis ({_role}) at {string.Join(", ", _options.Endpoints)} is not connected; it is reconnecting in the background and the command was not sent. Last error: {_lastError?.Message}",
                    _lastError);
            }

            ready = _ready.Task;
        }

        try
        {
            return await ready.WaitAsync(_options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new RedisConnectionException(
                $"Redis ({_role}) at {string.Join(", ", _options.Endpoints)} did not become ready within connectTimeout ({(long)_options.ConnectTimeout.TotalMilliseconds} ms); the command was not sent.", ex);
        }
    }

    public void Heartbeat(long now)
    {
        var current = _current;
        if (current is null || current.IsDead)
        {
            return;
        }

        current.CheckTimeouts(now, _options.SyncTimeout, _options.SyncTimeout * 2 < TimeSpan.FromSeconds(4) ? TimeSpan.FromSeconds(4) : _options.SyncTimeout * 2);

        // A peer that vanished without a FIN/RST (network partition) is only noticed when a command goes unanswered;
        // an idle connection, above all the subscriber, would never notice. A periodic PING makes it notice.
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastKeepAlive), now) >= KeepAliveInterval)
        {
            Volatile.Write(ref _lastKeepAlive, now);
            _ = KeepAliveAsync(current);
        }
    }

    private static async Task KeepAliveAsync(PhysicalConnection connection)
    {
        try
        {
            await connection.SendAsync(0, static (w, _) =>
            {
                RespWriter.WriteArrayHeader(w, 1);
                w.Write(Cmd.Ping);
            }, TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // The connection's own failure handling reconnects; nothing to do here.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        PhysicalConnection? current;
        TaskCompletionSource<PhysicalConnection> ready;
        lock (_gate)
        {
            if (_state == RedisConnectionState.Disposed)
            {
                return;
            }

            current = _current;
            _current = null;
            ready = _ready;
        }

        SetState(RedisConnectionState.Disposed);
        _disposed.Cancel();
        current?.Fail(new ObjectDisposedException(nameof(RedisConnection)));
        ready.TrySetException(new ObjectDisposedException(nameof(RedisConnection)));
    }

    private static TaskCompletionSource<PhysicalConnection> NewReady()
    {
        var tcs = new TaskCompletionSource<PhysicalConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = tcs.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return tcs;
    }

    private async ValueTask<RespReply> SendSlowAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.SendAsync(state, write, timeout, cancellationToken).ConfigureAwait(false);
    }

    private void OnFailed(PhysicalConnection connection, Exception reason)
    {
        lock (_gate)
        {
            if (_current != connection || _state == RedisConnectionState.Disposed)
            {
                return;
            }

            _current = null;
            _ready = NewReady();
        }

        _lastError = reason;
        if (reason is RedisProtocolException)
        {
            Log.ProtocolError(_logger, _role, connection.Endpoint, reason);
        }
        else
        {
            Log.ConnectionLost(_logger, _role, connection.Endpoint, reason);
        }

        SetState(RedisConnectionState.Disconnected);
        StartReconnect();
    }

    private void StartReconnect()
    {
        if (Interlocked.Exchange(ref _reconnecting, 1) != 0)
        {
            return;
        }

        SetState(RedisConnectionState.Connecting);
        _ = Task.Run(ReconnectLoopAsync);
    }

    private async Task ReconnectLoopAsync()
    {
        var attempt = 0;
        while (!_disposed.IsCancellationRequested)
        {
            SetState(RedisConnectionState.Connecting);
            try
            {
                var connection = await Handshake.ConnectAsync(_options, _pushHandler, _afterConnect, _disposed.Token).ConfigureAwait(false);
                connection.Failed += OnFailed;
                TaskCompletionSource<PhysicalConnection> ready;
                lock (_gate)
                {
                    if (_state == RedisConnectionState.Disposed)
                    {
                        connection.Fail(new ObjectDisposedException(nameof(RedisConnection)));
                        return;
                    }

                    // State and connection change together: whoever can send on it sees Connected.
                    _current = connection;
                    _state = RedisConnectionState.Connected;
                    ready = _ready;
                    Volatile.Write(ref _reconnecting, 0);
                }

                RaiseStateChanged(RedisConnectionState.Connected);
                Log.Connected(_logger, _role, connection.Endpoint);
                ready.TrySetResult(connection);
                if (connection.IsDead)
                {
                    OnFailed(connection, connection.Failure ?? new RedisConnectionException("The connection closed."));
                }

                return;
            }
            catch (Exception) when (_disposed.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _lastError = ex;
                var delay = Backoff(attempt++);
                Log.ConnectFailed(_logger, _role, attempt, (long)delay.TotalMilliseconds, ex);
                TaskCompletionSource<PhysicalConnection> failed;
                lock (_gate)
                {
                    failed = _ready;
                    _ready = NewReady();
                }

                SetState(RedisConnectionState.Disconnected);
                failed.TrySetException(ex is RedisConnectionException ? ex : new RedisConnectionException($"Could not connect to Redis: {ex.Message}", ex));
                try
                {
                    await Task.Delay(delay, _disposed.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private TimeSpan Backoff(int attempt) =>
        ReconnectBackoff.Delay(attempt, _options.ReconnectMinDelay, _options.ReconnectMaxDelay, Random.Shared.NextDouble());

    private void SetState(RedisConnectionState state)
    {
        lock (_gate)
        {
            if (_state == state || _state == RedisConnectionState.Disposed)
            {
                return;
            }

            _state = state;
        }

        RaiseStateChanged(state);
    }

    private void RaiseStateChanged(RedisConnectionState state)
    {
        try
        {
            StateChanged?.Invoke(state);
        }
#pragma warning disable CA1031 // a subscriber's bug must not break reconnecting
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.StateHandlerFailed(_logger, ex);
        }
    }
}
