using System.Buffers;

namespace Hardening.Redis;

/// <summary>Opens a physical connection to the first reachable endpoint and runs AUTH, SELECT and CLIENT SETNAME.</summary>
internal static class Handshake
{
    private static readonly byte[] Auth = RespWriter.Encode("AUTH");
    private static readonly byte[] Select = RespWriter.Encode("SELECT");
    private static readonly byte[] Client = RespWriter.Encode("CLIENT");
    private static readonly byte[] SetName = RespWriter.Encode("SETNAME");

    public static async Task<PhysicalConnection> ConnectAsync(
        RedisConnectionOptions options,
        Func<RespValue, bool>? pushHandler,
        Func<PhysicalConnection, CancellationToken, Task>? afterConnect,
        CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var endpoint in options.Endpoints)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            PhysicalConnection? connection = null;
            try
            {
                connection = await PhysicalConnection.OpenAsync(options, endpoint, pushHandler, timeout.Token).ConfigureAwait(false);
                await RunAsync(connection, options, timeout.Token).ConfigureAwait(false);
                if (afterConnect is not null)
                {
                    await afterConnect(connection, timeout.Token).ConfigureAwait(false);
                }

                return connection;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                connection?.Fail(new OperationCanceledException(cancellationToken));
                throw;
            }
            catch (Exception ex)
            {
                connection?.Fail(new RedisConnectionException($"The handshake with Redis at {endpoint} failed.", ex));
                last = ex is OperationCanceledException
                    ? new RedisConnectionException($"Redis at {endpoint} did not accept the connection and handshake within connectTimeout ({(long)options.ConnectTimeout.TotalMilliseconds} ms).", ex)
                    : ex;
            }
        }

        throw last is RedisConnectionException rce && options.Endpoints.Count == 1
            ? rce
            : new RedisConnectionException($"Could not connect to Redis at {string.Join(", ", options.Endpoints)}: {last?.Message}", last);
    }

    private static async Task RunAsync(PhysicalConnection connection, RedisConnectionOptions options, CancellationToken cancellationToken)
    {
        // Pipelined: one round trip for the whole handshake.
        var timeout = options.ConnectTimeout;
        ValueTask<RespReply>? auth = null, select = null, name = null;
        if (options.Password is not null)
        {
            auth = connection.SendAsync((options.User, options.Password), static (w, s) =>
            {
                RespWriter.WriteArrayHeader(w, s.User is null ? 2 : 3);
                w.Write(Auth);
                if (s.User is not null)
                {
                    RespWriter.WriteBulk(w, s.User);
                }

                RespWriter.WriteBulk(w, s.Password);
            }, timeout, cancellationToken);
        }

        if (options.DefaultDatabase != 0)
        {
            select = connection.SendAsync((long)options.DefaultDatabase, static (w, db) =>
            {
                RespWriter.WriteArrayHeader(w, 2);
                w.Write(Select);
                RespWriter.WriteBulk(w, db);
            }, timeout, cancellationToken);
        }

        if (options.ClientName is not null)
        {
            name = connection.SendAsync(options.ClientName, static (w, n) =>
            {
                RespWriter.WriteArrayHeader(w, 3);
                w.Write(Client);
                w.Write(SetName);
                RespWriter.WriteBulk(w, n);
            }, timeout, cancellationToken);
        }

        if (auth is { } a)
        {
            var reply = await a.ConfigureAwait(false);
            if (reply.IsError)
            {
                // The server's text (e.g. WRONGPASS) never contains the password.
                throw new RedisConnectionException($"Redis at {connection.Endpoint} rejected AUTH{(options.User is null ? "" : $" for user '{options.User}'")}: {reply.AsString()}",
                    new RedisServerException(reply.AsString()!));
            }
        }

        if (select is { } s)
        {
            var reply = await s.ConfigureAwait(false);
            if (reply.IsError)
            {
                throw new RedisConnectionException($"Redis at {connection.Endpoint} rejected SELECT {options.DefaultDatabase} (defaultDatabase): {reply.AsString()}",
                    new RedisServerException(reply.AsString()!));
            }
        }

        if (name is { } n)
        {
            var reply = await n.ConfigureAwait(false);
            if (reply.IsError)
            {
                throw new RedisConnectionException($"Redis at {connection.Endpoint} rejected CLIENT SETNAME (name): {reply.AsString()}",
                    new RedisServerException(reply.AsString()!));
            }
        }
    }
}
