using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Hardening.Benchmarks.Tokens;

/// <summary>
/// The Redis the Redis-backed benchmarks run against: <c>HARDENING_BENCH_REDIS</c> when set, else a throwaway local
/// redis-server (no persistence), and one multiplexer to it.
/// </summary>
internal sealed class BenchRedis : IDisposable
{
    private readonly Process? _server;

    public BenchRedis()
    {
        var endpoint = Environment.GetEnvironmentVariable("HARDENING_BENCH_REDIS");
        if (endpoint is null)
        {
            (_server, endpoint) = StartServer();
        }

        var options = ConfigurationOptions.Parse(endpoint);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        Connection = ConnectionMultiplexer.Connect(options);
    }

    public ConnectionMultiplexer Connection { get; }

    /// <summary>Runs <paramref name="total"/> operations split over <paramref name="callers"/> concurrent callers.</summary>
    public static Task RunAsync(int total, int callers, Func<long, Task> op, StrongBox<long> counter)
    {
        var perCaller = total / callers;
        return Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            for (var k = 0; k < perCaller; k++)
            {
                await op(Interlocked.Increment(ref counter.Value));
            }
        })));
    }

    public void Dispose()
    {
        Connection.Dispose();
        _server?.Kill();
        _server?.Dispose();
    }

    private static (Process Server, string Endpoint) StartServer()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = Process.Start(new ProcessStartInfo("redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no") { RedirectStandardOutput = true })!;
        server.BeginOutputReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var c = new TcpClient("127.0.0.1", port);
                return (server, $"127.0.0.1:{port}");
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        server.Kill();
        throw new InvalidOperationException("redis-server did not start");
    }
}
