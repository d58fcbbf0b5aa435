using System.Buffers;
using System.Collections.Concurrent;

namespace Hardening.Redis;

/// <summary>
/// Dedicated connections for blocking commands (XREAD BLOCK, BLPOP, ...), one command at a time each, so a
/// blocked reader never stalls the multiplexed connection. A connection whose command was cancelled or timed out
/// still owes a reply, so it is closed instead of reused.
/// </summary>
internal sealed class BlockingConnectionPool
{
    private const int MaxIdle = 4;
    private readonly RedisConnectionOptions _options;
    private readonly ConcurrentQueue<PhysicalConnection> _idle = new();
    private readonly ConcurrentDictionary<PhysicalConnection, byte> _busy = new();
    private volatile bool _disposed;

    public BlockingConnectionPool(RedisConnectionOptions options) => _options = options;

    public async Task<RespReply> SendAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(RedisConnection));
        PhysicalConnection? connection = null;
        while (_idle.TryDequeue(out var idle))
        {
            if (!idle.IsDead)
            {
                connection = idle;
                break;
            }
        }

        connection ??= await Handshake.ConnectAsync(_options, null, null, cancellationToken).ConfigureAwait(false);
        _busy[connection] = 0;
        var reusable = false;
        try
        {
            var reply = await connection.SendAsync(state, write, timeout, cancellationToken).ConfigureAwait(false);
            reusable = true;
            return reply;
        }
        finally
        {
            _busy.TryRemove(connection, out _);
            if (reusable && !_disposed && !connection.IsDead && connection.PendingCount == 0 && _idle.Count < MaxIdle)
            {
                _idle.Enqueue(connection);
            }
            else
            {
                connection.Fail(new RedisConnectionException("A dedicated Redis connection for blocking commands was closed after its command was cancelled or timed out."));
            }
        }
    }

    public void Heartbeat(long now)
    {
        if (_busy.IsEmpty)
        {
            return; // Keys copies the keys into a new list: not on every tick when nothing blocks.
        }

        foreach (var connection in _busy.Keys)
        {
            connection.CheckTimeouts(now, _options.SyncTimeout, TimeSpan.Zero);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryDequeue(out var idle))
        {
            idle.Fail(new ObjectDisposedException(nameof(RedisConnection)));
        }

        foreach (var connection in _busy.Keys)
        {
            connection.Fail(new ObjectDisposedException(nameof(RedisConnection)));
        }
    }
}
