using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace Hardening.Redis;

/// <summary>
/// One socket: requests are written under a lock into an in-memory pipe (so concurrent callers batch into few
/// socket writes) and replies are matched to requests in FIFO order. When the socket dies every command in flight
/// fails with <see cref="RedisConnectionException"/>; nothing is resent. A connection never comes back: the owner
/// makes a new one.
/// </summary>
internal sealed class PhysicalConnection
{
    private static readonly PipeOptions OutPipeOptions = new(
        pauseWriterThreshold: 0,
        readerScheduler: PipeScheduler.ThreadPool,
        writerScheduler: PipeScheduler.Inline,
        minimumSegmentSize: 16 * 1024,
        useSynchronizationContext: false);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly Pipe _out = new(OutPipeOptions);
    private readonly PipeReader _in;
    private readonly Lock _writeLock = new();
    private readonly ConcurrentQueue<PendingCommand> _pending = new();
    private readonly Func<RespValue, bool>? _pushHandler;
    private volatile bool _dead;
    private long _lastReadTimestamp;
    private Exception? _failure;

    private PhysicalConnection(Socket socket, Stream stream, RedisEndpoint endpoint, Func<RespValue, bool>? pushHandler)
    {
        _socket = socket;
        _stream = stream;
        Endpoint = endpoint;
        _pushHandler = pushHandler;
        _in = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true));
        _lastReadTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>Raised once, when the connection dies (with the reason).</summary>
    public event Action<PhysicalConnection, Exception>? Failed;

    public RedisEndpoint Endpoint { get; }

    public bool IsDead => _dead;

    public int PendingCount => _pending.Count;

    public Exception? Failure => _failure;

    /// <summary>TCP (and TLS) connect to one endpoint; the caller runs the handshake.</summary>
    public static async Task<PhysicalConnection> OpenAsync(RedisConnectionOptions options, RedisEndpoint endpoint, Func<RespValue, bool>? pushHandler, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            await socket.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = options.SslHost ?? endpoint.Host,
                        RemoteCertificateValidationCallback = options.CertificateValidation,
                    },
                    cancellationToken).ConfigureAwait(false);
            }

            var connection = new PhysicalConnection(socket, stream, endpoint, pushHandler);
            connection.Start();
            return connection;
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            throw;
        }
    }

    /// <summary>Writes one command and returns its reply; never blocks on the socket.</summary>
    public ValueTask<RespReply> SendAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var command = PendingCommand.Rent(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            command.TrySetException(new OperationCanceledException(cancellationToken));
            command.ReleaseFromConnection();
            return command.Task;
        }

        lock (_writeLock)
        {
            if (_dead)
            {
                command.TrySetException(NotConnected());
                command.ReleaseFromConnection();
                return command.Task;
            }

            try
            {
                write(_out.Writer, state);
            }
            catch (Exception ex)
            {
                // A half-written command cannot be taken back out of the pipe: drop the connection rather than send it.
                command.TrySetException(ex);
                command.ReleaseFromConnection();
                FailLocked(new RedisConnectionException($"A command to Redis at {Endpoint} could not be written; the connection was reset.", ex));
                return command.Task;
            }

            _pending.Enqueue(command);
            _ = _out.Writer.FlushAsync(CancellationToken.None);
        }

        command.RegisterCancellation(cancellationToken);
        return command.Task;
    }

    /// <summary>Times out commands past their deadline; kills the connection when it has been silent too long.</summary>
    public void CheckTimeouts(long now, TimeSpan syncTimeout, TimeSpan silenceLimit)
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        var oldest = true;
        foreach (var command in _pending)
        {
            var state = command.State;
            var deadline = command.Deadline;
            if (deadline != 0 && now > deadline)
            {
                command.TrySetException(state, new RedisTimeoutException(
                    $"The Redis command did not complete within its timeout (syncTimeout {(long)syncTimeout.TotalMilliseconds} ms) on {Endpoint}; {_pending.Count} command(s) were waiting. The reply, if it comes, is discarded."));
            }

            if (oldest && silenceLimit > TimeSpan.Zero && deadline != 0 && now > deadline && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReadTimestamp), now) > silenceLimit)
            {
                Fail(new RedisConnectionException($"Redis at {Endpoint} sent nothing for {silenceLimit.TotalSeconds:0.#} s while commands were waiting; the connection was presumed dead and reset."));
                return;
            }

            oldest = false;
        }
    }

    public void Fail(Exception reason)
    {
        lock (_writeLock)
        {
            FailLocked(reason);
        }
    }

    private void FailLocked(Exception reason)
    {
        if (_dead)
        {
            return;
        }

        _dead = true;
        _failure = reason;
        _out.Writer.Complete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _ = Task.Run(() => DisposeAndDrain(reason));
    }

    private async Task DisposeAndDrain(Exception reason)
    {
        DrainPending(reason);
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }

        _socket.Dispose();
        DrainPending(reason);
        Failed?.Invoke(this, reason);
    }

    private void DrainPending(Exception reason)
    {
        while (_pending.TryDequeue(out var command))
        {
            command.TrySetException(ForCommand(reason));
            command.ReleaseFromConnection();
        }
    }

    private Exception ForCommand(Exception reason) => reason switch
    {
        RedisProtocolException p => new RedisProtocolException(p.Message + " The connection was reset; the command was not resent."),
        ObjectDisposedException d => new ObjectDisposedException(d.ObjectName, "The Redis connection was disposed while the command was in flight."),
        _ => new RedisConnectionException(
            $"The connection to Redis at {Endpoint} was lost while the command was in flight; it was not resent and may or may not have run. ({reason.Message})", reason),
    };

    private RedisConnectionException NotConnected() =>
        new($"The connection to Redis at {Endpoint} is closed; the command was not sent. ({_failure?.Message})", _failure);

    private void Start()
    {
        _ = Task.Run(SendLoopAsync);
        _ = Task.Run(ReadLoopAsync);
    }

    private async Task SendLoopAsync()
    {
        var reader = _out.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    if (buffer.IsSingleSegment)
                    {
                        await _stream.WriteAsync(buffer.First).ConfigureAwait(false);
                    }
                    else
                    {
                        foreach (var segment in buffer)
                        {
                            await _stream.WriteAsync(segment).ConfigureAwait(false);
                        }
                    }

                    await _stream.FlushAsync().ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Fail(new RedisConnectionException($"Writing to Redis at {Endpoint} failed: {ex.Message}", ex));
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _in.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                Volatile.Write(ref _lastReadTimestamp, Stopwatch.GetTimestamp());
                try
                {
                    while (RespParser.TryParseReply(ref buffer, out var value))
                    {
                        Dispatch(value);
                    }
                }
                catch (RedisProtocolException ex)
                {
                    Fail(ex);
                    return;
                }

                _in.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    Fail(buffer.IsEmpty
                        ? new RedisConnectionException($"Redis at {Endpoint} closed the connection.")
                        : RespParser.Truncated(buffer.Length));
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            Fail(new RedisConnectionException($"Reading from Redis at {Endpoint} failed: {ex.Message}", ex));
        }
        finally
        {
            await _in.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void Dispatch(RespReply value)
    {
        if (_pushHandler is not null && _pushHandler(value.ToValue()))
        {
            return;
        }

        if (!_pending.TryDequeue(out var command))
        {
            throw new RedisProtocolException($"Redis at {Endpoint} sent a reply ({value.Describe()}) that no command was waiting for.");
        }

        command.TrySetResult(value);
        command.ReleaseFromConnection();
    }
}
