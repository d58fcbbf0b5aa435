using System.Net;
using System.Net.Sockets;

namespace Hardening.Testing;

/// <summary>
/// A loopback TCP proxy in front of PostgreSQL that counts network round trips: a round trip starts each time the
/// client sends bytes after the server has sent bytes (or for the first time). The client only sends again once it
/// has waited for an answer, so the count equals the number of request/response exchanges on the wire. It also
/// reads the client's protocol messages (no TLS: the harness server has none) and records every statement the
/// client asks PostgreSQL to run: the text of each Parse and simple Query, and the number of Executes.
/// With a reply delay it is also a slow link (for any TCP protocol, Redis included: <c>postgres: false</c> turns the
/// statement recording off): every chunk the server sends reaches the client that much later, so no client read
/// completes before the client waits for it.
/// </summary>
public sealed class RoundTripProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _parsed = [];
    private long _roundTrips;
    private long _executes;

    private readonly TimeSpan _replyDelay;
    private readonly bool _postgres;

    private RoundTripProxy(string host, int port, TimeSpan replyDelay, bool postgres)
    {
        _host = host;
        _port = port;
        _replyDelay = replyDelay;
        _postgres = postgres;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>Starts a proxy to <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <param name="host">The server's host.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="replyDelay">How long each chunk from the server is held before it is passed on (zero: not held).</param>
    /// <param name="postgres">Whether the client speaks PostgreSQL's protocol (statements are recorded); false for any other.</param>
    public static RoundTripProxy Start(string host, int port, TimeSpan replyDelay = default, bool postgres = true) => new(host, port, replyDelay, postgres);

    /// <summary>Execute messages (statements run through the extended protocol) plus simple queries since the last reset.</summary>
    public long Executes => Interlocked.Read(ref _executes);

    /// <summary>The SQL of every Parse and simple Query message since the last reset, in order.</summary>
    public IReadOnlyList<string> Statements
    {
        get
        {
            lock (_parsed)
            {
                return [.. _parsed];
            }
        }
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _roundTrips, 0);
        Interlocked.Exchange(ref _executes, 0);
        lock (_parsed)
        {
            _parsed.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        await server.ConnectAsync(_host, _port);
        client.NoDelay = true;
        server.NoDelay = true;
        var state = new Direction();
        var up = PumpAsync(client.GetStream(), server.GetStream(), state, fromClient: true);
        var down = PumpAsync(server.GetStream(), client.GetStream(), state, fromClient: false);
        await Task.WhenAny(up, down);
        client.Close();
        server.Close();
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Direction state, bool fromClient)
    {
        var buffer = new byte[65536];
        var reader = fromClient && _postgres ? new ClientMessages(this) : null;
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (state)
                {
                    if (fromClient && !state.ClientSpokeLast)
                    {
                        Interlocked.Increment(ref _roundTrips);
                    }

                    // Recorded before forwarding, so the peer's reply is always seen after it.
                    state.ClientSpokeLast = fromClient;
                }

                reader?.Feed(buffer.AsSpan(0, n));
                if (!fromClient && _replyDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_replyDelay, _stop.Token);
                }

                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private sealed class Direction
    {
        public bool ClientSpokeLast { get; set; }
    }

    /// <summary>Frames the client's side of the protocol: untyped SSL/GSS/startup requests first, then typed messages.</summary>
    private sealed class ClientMessages(RoundTripProxy owner)
    {
        private readonly List<byte> _pending = [];
        private bool _started;

        public void Feed(ReadOnlySpan<byte> data)
        {
            _pending.AddRange(data);
            while (true)
            {
                var header = _started ? 5 : 8;
                if (_pending.Count < header)
                {
                    return;
                }

                var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending);
                var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(span[(_started ? 1 : 0)..]);
                var total = _started ? length + 1 : length;
                if (_pending.Count < total)
                {
                    return;
                }

                if (!_started)
                {
                    // SSLRequest / GSSENCRequest carry a request code; the startup message carries protocol 3.0.
                    _started = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(span[4..]) == 196608;
                }
                else
                {
                    Record((char)span[0], span[5..total]);
                }

                _pending.RemoveRange(0, total);
            }
        }

        private void Record(char type, ReadOnlySpan<byte> body)
        {
            switch (type)
            {
                case 'P': // Parse: statement name, query
                    var nameEnd = body.IndexOf((byte)0);
                    var query = body[(nameEnd + 1)..];
                    Add(System.Text.Encoding.UTF8.GetString(query[..query.IndexOf((byte)0)]));
                    break;
                case 'Q': // simple Query
                    Add(System.Text.Encoding.UTF8.GetString(body[..body.IndexOf((byte)0)]));
                    Interlocked.Increment(ref owner._executes);
                    break;
                case 'E':
                    Interlocked.Increment(ref owner._executes);
                    break;
            }
        }

        private void Add(string sql)
        {
            lock (owner._parsed)
            {
                owner._parsed.Add(sql);
            }
        }
    }
}
