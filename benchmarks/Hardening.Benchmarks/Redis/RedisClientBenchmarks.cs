using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Hardening.Redis;

namespace Hardening.Benchmarks.Redis;

/// <summary>
/// SET and GET through Hardening.Redis (one multiplexed connection shared by <see cref="Callers"/> concurrent callers)
/// against <c>redis-benchmark -t set|get -c Callers -n N</c> on the same redis-server in the same run.
/// Times are per command (OperationsPerInvoke). The peer's time includes starting the redis-benchmark process
/// (a few ms against seconds of work).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory, BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class RedisClientBenchmarks
{
    private const int Operations = 50_000;
    private static readonly byte[] Value = "xxx"u8.ToArray(); // redis-benchmark's default 3-byte payload
    private const string Key = "key:__rand_int__";           // redis-benchmark's key when -r is not given

    private Process? _server;
    private string _host = "127.0.0.1";
    private int _port;
    private RedisConnection _redis = null!;

    [Params(1, 50)]
    public int Callers { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        var external = Environment.GetEnvironmentVariable("HARDENING_BENCH_REDIS");
        if (!string.IsNullOrWhiteSpace(external))
        {
            var parts = external.Split(':');
            _host = parts[0];
            _port = int.Parse(parts[1], CultureInfo.InvariantCulture);
        }
        else
        {
            _port = FreePort();
            var psi = new ProcessStartInfo("redis-server")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[] { "--port", _port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning" })
            {
                psi.ArgumentList.Add(a);
            }

            _server = Process.Start(psi)!;
            _server.OutputDataReceived += (_, _) => { };
            _server.ErrorDataReceived += (_, _) => { };
            _server.BeginOutputReadLine();
            _server.BeginErrorReadLine();
        }

        for (var i = 0; ; i++)
        {
            try
            {
                _redis = await RedisConnection.ConnectAsync($"{_host}:{_port}");
                break;
            }
            catch (RedisConnectionException) when (i < 100)
            {
                await Task.Delay(50);
            }
        }

        await _redis.SetAsync(Key, Value);
    }

    private async Task CleanupAsync()
    {
        await _redis.DisposeAsync();
        if (_server is { HasExited: false })
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory("SET")]
    public void RedisBenchmark_Set() => RunRedisBenchmark("set");

    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory("SET")]
    public Task HardeningRedis_Set() => RunCallersAsync(static r => r.SetAsync(Key, Value));

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory("GET")]
    public void RedisBenchmark_Get() => RunRedisBenchmark("get");

    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory("GET")]
    public Task HardeningRedis_Get() => RunCallersAsync(static r => r.GetAsync(Key));

    private Task RunCallersAsync<T>(Func<RedisConnection, ValueTask<T>> command)
    {
        var perCaller = Operations / Callers;
        var redis = _redis;
        var tasks = new Task[Callers];
        for (var c = 0; c < tasks.Length; c++)
        {
            tasks[c] = Task.Run(async () =>
            {
                for (var i = 0; i < perCaller; i++)
                {
                    await command(redis).ConfigureAwait(false);
                }
            });
        }

        return Task.WhenAll(tasks);
    }

    private void RunRedisBenchmark(string test)
    {
        var psi = new ProcessStartInfo("redis-benchmark")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "-h", _host, "-p", _port.ToString(CultureInfo.InvariantCulture), "-t", test, "-c", Callers.ToString(CultureInfo.InvariantCulture), "-n", Operations.ToString(CultureInfo.InvariantCulture), "-q" })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 || !output.Contains("requests per second", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-benchmark failed: {output} {p.StandardError.ReadToEnd()}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
