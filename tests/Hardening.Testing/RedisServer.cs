using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hardening.Testing;

/// <summary>
/// A throwaway <c>redis-server</c> on a free loopback port with persistence off. <see cref="Shared"/> is started
/// once per test process; fault tests that stop the server take their own from <see cref="StartAsync"/>.
/// If <c>HARDENING_TEST_REDIS</c> (<c>host:port</c>) is set, <see cref="Shared"/> uses that server instead.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly Lazy<Task<RedisServer>> SharedServer = new(() => StartSharedAsync());
    private readonly object _gate = new();
    private Process? _process;
    private bool _disposed;

    private readonly string[] _extraArguments;

    private RedisServer(string host, int port, string? directory, string[]? extraArguments = null)
    {
        Host = host;
        Port = port;
        Directory = directory;
        _extraArguments = extraArguments ?? [];
    }

    /// <summary>The server shared by every test of this process.</summary>
    public static Task<RedisServer> Shared => SharedServer.Value;

    /// <summary>Host the server listens on.</summary>
    public string Host { get; }

    /// <summary>Port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The server's working directory (null for an external server).</summary>
    public string? Directory { get; }

    /// <summary><c>host:port</c>, which is also a valid StackExchange.Redis-style connection string.</summary>
    public string ConnectionString => $"{Host}:{Port}";

    /// <summary>The server's process id, or null when external or stopped.</summary>
    public int? ProcessId { get { lock (_gate) { return _process is { HasExited: false } p ? p.Id : null; } } }

    /// <summary>True when this harness started the server (and so can stop and restart it).</summary>
    public bool IsOwned => Directory is not null;

    /// <summary>Starts a new dedicated server. Its cleanup is tied to <paramref name="ownerPid"/> (default: this process).</summary>
    public static Task<RedisServer> StartAsync(int? ownerPid = null) => StartAsync([], ownerPid);

    /// <summary>Starts a new dedicated server with extra <c>redis-server</c> arguments (e.g. cluster mode).</summary>
    public static async Task<RedisServer> StartAsync(string[] extraArguments, int? ownerPid = null)
    {
        ArgumentNullException.ThrowIfNull(extraArguments);
        var binary = ServerBinaries.Redis("redis-server");
        var dir = Path.Combine(Path.GetTempPath(), $"hardening-redis-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(dir);
        var cluster = extraArguments.Contains("--cluster-enabled");
        RedisServer server;
        for (var attempt = 1; ; attempt++)
        {
            // A port that was free a moment ago can be taken before redis-server binds it (another process, or an
            // outgoing connection on the cluster bus port): try another one.
            server = new RedisServer("127.0.0.1", FreePort.Next(cluster ? 10000 : null), dir, extraArguments);
            try
            {
                await server.StartProcessAsync(binary);
                break;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                await server.DisposeAsync();
                System.IO.Directory.CreateDirectory(dir);
            }
        }

        var pid = server.ProcessId ?? 0;
        Watchdog.Arm(ownerPid ?? Environment.ProcessId, $"kill -9 {pid}; rm -rf {Watchdog.Quote(dir)}");
        return server;
    }

    /// <summary>Sends <c>PING</c> over a raw socket and returns the reply line (e.g. <c>+PONG</c>).</summary>
    public Task<string> PingAsync(CancellationToken cancellationToken = default) => SendRawAsync("PING", cancellationToken);

    /// <summary>Sends one inline command over a fresh raw socket and returns the first reply line.</summary>
    public async Task<string> SendRawAsync(string inlineCommand, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(Host, Port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(inlineCommand + "\r\n"), cancellationToken);
        var buffer = new byte[4096];
        var sb = new StringBuilder();
        while (!sb.ToString().Contains("\r\n", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                break;
            }

            sb.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return sb.ToString().Split("\r\n")[0];
    }

    /// <summary>Kills the server (SIGKILL, like a crash). Connected clients see their sockets die.</summary>
    public async Task StopAsync()
    {
        EnsureOwned();
        Process? p;
        lock (_gate)
        {
            p = _process;
            _process = null;
        }

        if (p is null)
        {
            return;
        }

        try
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            p.Dispose();
        }

        for (var i = 0; i < 100 && FreePort.IsListening(Port); i++)
        {
            await Task.Delay(50);
        }
    }

    /// <summary>Starts the server again on the same port (after <see cref="StopAsync"/>); data is gone (a cluster node keeps its identity from nodes.conf).</summary>
    public async Task RestartAsync()
    {
        EnsureOwned();
        await StopAsync();
        await StartProcessAsync(ServerBinaries.Redis("redis-server"));
        var pid = ProcessId ?? 0;
        Watchdog.Arm(Environment.ProcessId, $"kill -9 {pid}");
    }

    /// <summary>Stops the server and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed || !IsOwned)
        {
            return;
        }

        _disposed = true;
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory!, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<RedisServer> StartSharedAsync()
    {
        var external = Environment.GetEnvironmentVariable("HARDENING_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(external))
        {
            var parts = external.Trim().Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[1], out var port))
            {
                throw new InvalidOperationException($"HARDENING_TEST_REDIS must be 'host:port', got '{external}'.");
            }

            return new RedisServer(parts[0], port, null);
        }

        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return server;
    }

    private async Task StartProcessAsync(string binary)
    {
        var psi = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory!,
        };
        foreach (var a in new[]
                 {
                     "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", Directory!,
                     "--protected-mode", "yes", "--loglevel", "warning",
                 }.Concat(_extraArguments))
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start redis-server.");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        lock (_gate)
        {
            _process = p;
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {p.ExitCode} on port {Port}.");
            }

            try
            {
                if (await PingAsync() == "+PONG")
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            catch (IOException)
            {
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"redis-server did not answer PING on port {Port} within 20 s.");
    }

    private void EnsureOwned()
    {
        if (!IsOwned)
        {
            throw new InvalidOperationException("This Redis server comes from HARDENING_TEST_REDIS; the harness cannot stop or restart it. Use RedisServer.StartAsync() for fault tests.");
        }
    }
}
