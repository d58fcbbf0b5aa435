using System.Net;
using System.Net.Sockets;

namespace Hardening.Rls.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of PostgreSQL that counts network round trips: a round trip starts each time the
/// client sends bytes after the server has sent bytes (or for the first time). The client only sends again once it
/// has waited for an answer, so the count equals the number of request/response exchanges on the wire.
/// </summary>
internal sealed class RoundTripProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private long _roundTrips;

    private RoundTripProxy(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    public static RoundTripProxy Start(string host, int port) => new(host, port);

    public void Reset() => Interlocked.Exchange(ref _roundTrips, 0);

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
}
