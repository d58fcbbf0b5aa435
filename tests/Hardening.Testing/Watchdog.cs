using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Hardening.Testing;

/// <summary>
/// Cleans up after servers even when the test process is killed: a detached shell waits for the owner process
/// to exit and then runs the cleanup commands. Normal disposal runs the same cleanup sooner.
/// </summary>
public static class Watchdog
{
    /// <summary>Starts a detached watcher that runs <paramref name="cleanupScript"/> once <paramref name="ownerPid"/> is gone.</summary>
    public static void Arm(int ownerPid, string cleanupScript)
    {
        var script = $"while kill -0 {ownerPid} 2>/dev/null; do sleep 1; done; {cleanupScript}";
        var psi = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script + " >/dev/null 2>&1 </dev/null");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the cleanup watchdog (setsid).");
        p.StandardInput.Close();
        p.WaitForExit(5000);
    }

    /// <summary>Single-quotes a value for bash.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>Free loopback ports.</summary>
public static class FreePort
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// Returns a TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before
    /// (two servers started in parallel never get the same port). With <paramref name="alsoFree"/>, the port at that
    /// offset is checked too (a Redis Cluster node also listens on port + 10000 for its bus).
    /// </summary>
    /// <remarks>
    /// Ports come from below the kernel's ephemeral range (<c>net.ipv4.ip_local_port_range</c>, 32768-60999 by default),
    /// so an outgoing connection (a pooled database connection, a load client) cannot take a port between this call and
    /// the server binding it: asking the kernel for port 0 hands out exactly those ephemeral ports.
    /// </remarks>
    public static int Next(int? alsoFree = null)
    {
        var offset = alsoFree ?? 0;
        var high = EphemeralLow - 1 - offset; // the port and port + offset both stay below the ephemeral range
        for (var attempt = 0; high > Low && attempt < 2000; attempt++)
        {
            var port = Random.Shared.Next(Low, high + 1);
            lock (HandedOut)
            {
                if (HandedOut.Contains(port))
                {
                    continue;
                }
            }

            if (!CanBind(port) || (offset != 0 && !CanBind(port + offset)))
            {
                continue;
            }

            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free loopback port pair (port, port + {offset}) below the ephemeral range {EphemeralLow}- after 2000 tries.");
    }

    private const int Low = 10000;

    private static int EphemeralLow { get; } = ReadEphemeralLow();

    private static int ReadEphemeralLow()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>True if something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
