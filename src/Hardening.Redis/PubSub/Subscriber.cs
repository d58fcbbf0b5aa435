using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Hardening.Redis;

/// <summary>
/// The dedicated subscriber connection: handlers by channel and pattern, messages dispatched in order on the
/// connection's reader, and every subscription re-sent after a reconnect (before the connection is reported ready).
/// </summary>
internal sealed class Subscriber
{
    private static readonly byte[] Subscribe = RespWriter.Encode("SUBSCRIBE");
    private static readonly byte[] PSubscribe = RespWriter.Encode("PSUBSCRIBE");
    private static readonly byte[] Unsubscribe = RespWriter.Encode("UNSUBSCRIBE");
    private static readonly byte[] PUnsubscribe = RespWriter.Encode("PUNSUBSCRIBE");

    private readonly RedisConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Action<RedisMessage>[]> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Action<RedisMessage>[]> _patterns = new(StringComparer.Ordinal);
    private readonly ManagedConnection _connection;
    private int _started;

    public Subscriber(RedisConnectionOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _connection = new ManagedConnection(options, logger, "subscriber", OnPush, ResubscribeAsync);
    }

    public ManagedConnection Connection => _connection;

    public async Task<RedisSubscription> SubscribeAsync(string name, bool pattern, Action<RedisMessage> handler, CancellationToken cancellationToken)
    {
        bool first;
        lock (_gate)
        {
            var map = pattern ? _patterns : _channels;
            var existing = map.GetValueOrDefault(name) ?? [];
            map[name] = [.. existing, handler];
            first = existing.Length == 0;
        }

        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _connection.Start();
        }

        if (first)
        {
            try
            {
                var reply = await _connection.SendAsync((name, pattern), static (w, s) =>
                {
                    RespWriter.WriteArrayHeader(w, 2);
                    w.Write(s.pattern ? PSubscribe : Subscribe);
                    RespWriter.WriteBulk(w, s.name);
                }, _options.SyncTimeout, cancellationToken).ConfigureAwait(false);
                if (reply.IsError)
                {
                    throw new RedisServerException(reply.AsString()!);
                }
            }
            catch
            {
                Remove(name, pattern, handler);
                throw;
            }
        }

        return new RedisSubscription(name, pattern, () => UnsubscribeAsync(name, pattern, handler));
    }

    public void Heartbeat(long now)
    {
        if (Volatile.Read(ref _started) != 0)
        {
            _connection.Heartbeat(now);
        }
    }

    public void Dispose() => _connection.Dispose();

    private async ValueTask UnsubscribeAsync(string name, bool pattern, Action<RedisMessage> handler)
    {
        if (!Remove(name, pattern, handler))
        {
            return;
        }

        var send = _connection.TrySendNow((name, pattern), static (w, s) =>
        {
            RespWriter.WriteArrayHeader(w, 2);
            w.Write(s.pattern ? PUnsubscribe : Unsubscribe);
            RespWriter.WriteBulk(w, s.name);
        }, _options.SyncTimeout, CancellationToken.None);
        if (send is { } pending)
        {
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // The server forgets subscriptions of a dead connection; nothing to undo.
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Removes the handler; true when it was the channel's last one.</summary>
    private bool Remove(string name, bool pattern, Action<RedisMessage> handler)
    {
        lock (_gate)
        {
            var map = pattern ? _patterns : _channels;
            if (!map.TryGetValue(name, out var handlers))
            {
                return false;
            }

            var index = Array.IndexOf(handlers, handler);
            if (index < 0)
            {
                return false;
            }

            if (handlers.Length == 1)
            {
                map.Remove(name);
                return true;
            }

            map[name] = [.. handlers[..index], .. handlers[(index + 1)..]];
            return false;
        }
    }

    private async Task ResubscribeAsync(PhysicalConnection connection, CancellationToken cancellationToken)
    {
        List<(string Name, bool Pattern)> all;
        lock (_gate)
        {
            all = [.. _channels.Keys.Select(c => (c, false)), .. _patterns.Keys.Select(p => (p, true))];
        }

        var replies = new List<ValueTask<RespReply>>(all.Count);
        foreach (var item in all)
        {
            replies.Add(connection.SendAsync(item, static (w, s) =>
            {
                RespWriter.WriteArrayHeader(w, 2);
                w.Write(s.Pattern ? PSubscribe : Subscribe);
                RespWriter.WriteBulk(w, s.Name);
            }, _options.ConnectTimeout, cancellationToken));
        }

        foreach (var reply in replies)
        {
            var value = await reply.ConfigureAwait(false);
            if (value.IsError)
            {
                throw new RedisConnectionException($"Resubscribing after a reconnect failed: {value.AsString()}");
            }
        }
    }

    private bool OnPush(RespValue value)
    {
        if (value.Type != RespType.Array)
        {
            return false;
        }

        var items = value.Items;
        if (items.Count == 3 && items[0].PayloadEquals("message"u8))
        {
            var channel = Encoding.UTF8.GetString(items[1].Bytes.Span);
            Deliver(_channels, channel, new RedisMessage(channel, null, items[2].Bytes));
            return true;
        }

        if (items.Count == 4 && items[0].PayloadEquals("pmessage"u8))
        {
            var pattern = Encoding.UTF8.GetString(items[1].Bytes.Span);
            var channel = Encoding.UTF8.GetString(items[2].Bytes.Span);
            Deliver(_patterns, pattern, new RedisMessage(channel, pattern, items[3].Bytes));
            return true;
        }

        return false;
    }

    private void Deliver(Dictionary<string, Action<RedisMessage>[]> map, string key, RedisMessage message)
    {
        Action<RedisMessage>[]? handlers;
        lock (_gate)
        {
            handlers = map.GetValueOrDefault(key);
        }

        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(message);
            }
#pragma warning disable CA1031 // one handler's bug must not stop delivery to the others or kill the reader
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.HandlerFailed(_logger, key, ex);
            }
        }
    }
}
