using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Hardening.Testing;

namespace Hardening.Drills.Topology;

/// <summary>
/// HAProxy (apt <c>haproxy</c>) in front of the sample instances: round robin, a health check on
/// <c>/health/ready</c> every 2 s (5 s timeout; down after 3 failures, up after 2 successes), connection failures retried and
/// redispatched to another instance, long client/server timeouts for SSE streams (the sample sends a heartbeat every
/// 15 s); when no instance passes its check, requests still go to all of them (panic routing, see
/// <see cref="Configuration"/>). An admin socket answers <c>show stat</c> and friends.
/// </summary>
internal sealed class HaProxy : IAsyncDisposable
{
    private readonly ServerProcess _process;

    private HaProxy(string directory, int port, ServerProcess process)
    {
        Directory = directory;
        Port = port;
        _process = process;
    }

    /// <summary>The frontend port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The frontend address.</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>The directory holding haproxy.cfg and the admin socket.</summary>
    public string Directory { get; }

    /// <summary>The haproxy process.</summary>
    public ServerProcess Process => _process;

    /// <summary>The admin socket (<c>stats socket ... level admin</c>).</summary>
    public string AdminSocket => Path.Combine(Directory, "admin.sock");

    /// <summary>The HAProxy configuration for <paramref name="backendPorts"/>; public for the docs and a test.</summary>
    public static string Configuration(int port, IReadOnlyList<int> backendPorts, string adminSocket)
    {
        var servers = new StringBuilder();
        for (var i = 0; i < backendPorts.Count; i++)
        {
            servers.Append(CultureInfo.InvariantCulture, $"    server ats-{i} 127.0.0.1:{backendPorts[i]} check\n");
        }

        // Panic routing (Envoy's term): when every instance fails its check (all overloaded, or a dependency they all
        // share is down), HAProxy sends requests to them anyway instead of answering 503 itself. A slow instance still
        // serves; one whose dependency is down answers its own fast 503; a dead one refuses and the request is
        // redispatched. The backups have no check and are used only while no checked server is up.
        for (var i = 0; i < backendPorts.Count; i++)
        {
            servers.Append(CultureInfo.InvariantCulture, $"    server panic-{i} 127.0.0.1:{backendPorts[i]} backup\n");
        }

        return $"""
            global
                # Two descriptors per proxied connection: 9000 fits the usual 20000 open-file limit (5000 SSE streams + load).
                maxconn 9000
                stats socket {adminSocket} mode 600 level admin
                hard-stop-after 5s

            defaults
                mode http
                # SSE frames are small and must go out at once: no merging of small writes (MSG_MORE) in either direction.
                option http-no-delay
                # SSE: a stream is one long response; heartbeats every 15 s keep it under these inactivity timeouts.
                timeout connect 2s
                timeout client 5m
                timeout server 5m
                timeout tunnel 1h
                timeout http-request 10s
                timeout http-keep-alive 30s
                timeout queue 10s
                # A busy instance answers its check slowly; only a dead or refusing one should be taken out.
                timeout check 5s
                # A connection refused (instance down, not yet marked down) is retried on another instance; a request
                # that reached an instance is never replayed (POSTs are not idempotent without their key).
                retries 3
                option redispatch 1
                retry-on conn-failure

            frontend api
                bind 127.0.0.1:{port}
                maxconn 9000
                default_backend ats

            backend ats
                balance roundrobin
                option allbackups
                option httpchk
                http-check send meth GET uri /health/ready
                http-check expect status 200
                default-server inter 2s fastinter 1s downinter 1s fall 3 rise 2
            {servers}
            """;
    }

    /// <summary>Writes the configuration and starts haproxy; waits until the frontend accepts connections.</summary>
    public static async Task<HaProxy> StartAsync(IReadOnlyList<int> backendPorts, CancellationToken cancellationToken)
    {
        var binary = ServerBinaries.Find("haproxy", ["/usr/sbin", "/usr/bin", "/usr/local/sbin"], "haproxy", "sudo apt-get install -y haproxy   (or ./build.sh deps)");
        var dir = Path.Combine(Path.GetTempPath(), $"hardening-haproxy-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(dir);
        Watchdog.Arm(Environment.ProcessId, $"rm -rf {Watchdog.Quote(dir)}");
        var port = FreePort.Next();
        var config = Path.Combine(dir, "haproxy.cfg");
        await File.WriteAllTextAsync(config, Configuration(port, backendPorts, Path.Combine(dir, "admin.sock")), cancellationToken);
        var check = await ProcessRunner.RunAsync(binary, ["-c", "-q", "-f", config], TimeSpan.FromSeconds(30));
        check.EnsureSuccess("haproxy -c (configuration check)");
        var proxy = new HaProxy(dir, port, new ServerProcess("haproxy", binary, ["-db", "-f", config], workingDirectory: dir));
        await proxy.StartAgainAsync(cancellationToken);
        return proxy;
    }

    /// <summary>Starts the (killed) process again and waits until the frontend accepts connections.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        _process.Start();
        await _process.WaitUntilAsync(_ => Task.FromResult(FreePort.IsListening(Port)), TimeSpan.FromSeconds(20), cancellationToken);
    }

    /// <summary>Sends one command to the admin socket and returns the answer.</summary>
    public async Task<string> AdminAsync(string command, CancellationToken cancellationToken = default)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(AdminSocket), cancellationToken);
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"), cancellationToken);
        var answer = new StringBuilder();
        var buffer = new byte[16384];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, cancellationToken)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return answer.ToString();
    }

    /// <summary>Each backend server's status as HAProxy sees it (<c>UP</c>, <c>DOWN</c>, <c>UP 1/2</c>...), by name (<c>ats-0</c>...).</summary>
    public async Task<Dictionary<string, string>> ServerStatusAsync(CancellationToken cancellationToken = default)
    {
        var csv = await AdminAsync("show stat", cancellationToken);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        var name = Array.IndexOf(header, "svname");
        var status = Array.IndexOf(header, "status");
        var proxy = Array.IndexOf(header, "pxname");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length > status && f[proxy] == "ats" && f[name].StartsWith("ats-", StringComparison.Ordinal))
            {
                result[f[name]] = f[status];
            }
        }

        return result;
    }

    /// <summary>Waits until HAProxy reports exactly <paramref name="up"/> backend servers UP.</summary>
    public async Task WaitForUpAsync(int up, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await _process.WaitUntilAsync(async ct => (await ServerStatusAsync(ct)).Values.Count(s => s == "UP") == up, timeout, cancellationToken);
    }

    /// <summary>Kills haproxy and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
