using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hardening.Redis.Tests.Connection;

/// <summary>A TCP server that answers the first command on its n-th connection with script[n] and then closes it.</summary>
internal sealed class FakeServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly byte[][] _script;
    private readonly bool _closeAfterReply;
    private readonly Task _accept;
    private int _connections;

    public FakeServer(params string[] script)
        : this(false, script.Select(Encoding.ASCII.GetBytes).ToArray())
    {
    }

    /// <summary>With <paramref name="closeAfterReply"/>, every connection is closed right after its one reply.</summary>
    public FakeServer(bool closeAfterReply, params byte[][] script)
    {
        _script = script;
        _closeAfterReply = closeAfterReply;
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (InvalidOperationException)
        {
            // AcceptTcpClientAsync after Stop: the listener is gone, as intended.
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            var client = await _listener.AcceptTcpClientAsync();
            var index = Interlocked.Increment(ref _connections) - 1;
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var buffer = new byte[4096];
                    if (await stream.ReadAsync(buffer) == 0)
                    {
                        return;
                    }

                    var reply = _script[Math.Min(index, _script.Length - 1)];
                    await stream.WriteAsync(reply);
                    if (!_closeAfterReply && index == _script.Length - 1)
                    {
                        // The last scripted connection stays open and keeps answering the same way.
                        while (await stream.ReadAsync(buffer) > 0)
                        {
                            await stream.WriteAsync(reply);
                        }
                    }
                }
            });
        }
    }
}
