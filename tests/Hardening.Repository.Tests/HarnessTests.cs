using System.Diagnostics;

namespace Hardening.Repository.Tests;

/// <summary>The test harness cleans up the servers it starts, both on disposal and when its owner dies.</summary>
public sealed class HarnessTests
{
    [Fact]
    public async Task Disposed_redis_server_is_gone_and_its_directory_deleted()
    {
        var server = await RedisServer.StartAsync();
        Assert.Equal("+PONG", await server.PingAsync());
        var dir = server.Directory!;
        await server.DisposeAsync();
        Assert.False(FreePort.IsListening(server.Port));
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task Redis_restarts_on_the_same_port()
    {
        await using var server = await RedisServer.StartAsync();
        await server.StopAsync();
        Assert.False(FreePort.IsListening(server.Port));
        await server.RestartAsync();
        Assert.Equal("+PONG", await server.PingAsync());
    }

    [Fact]
    public async Task Servers_are_cleaned_up_when_the_owning_process_is_killed()
    {
        using var owner = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        var redis = await RedisServer.StartAsync(owner.Id);
        var postgres = await PostgresServer.StartAsync(owner.Id);
        Assert.True(FreePort.IsListening(redis.Port));
        Assert.True(FreePort.IsListening(postgres.Port));

        owner.Kill(); // as if the test run were aborted with SIGKILL: no disposal runs
        await owner.WaitForExitAsync();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (FreePort.IsListening(redis.Port) || FreePort.IsListening(postgres.Port)
                   || Directory.Exists(redis.Directory) || Directory.Exists(postgres.Directory)))
        {
            await Task.Delay(200);
        }

        Assert.False(FreePort.IsListening(redis.Port), "redis-server still listens after its owner died");
        Assert.False(FreePort.IsListening(postgres.Port), "postgres still listens after its owner died");
        Assert.False(Directory.Exists(redis.Directory), "redis directory left behind");
        Assert.False(Directory.Exists(postgres.Directory), "postgres directory left behind");
    }

    [Fact]
    public void Free_ports_are_distinct_bindable_and_below_the_ephemeral_range()
    {
        // The kernel hands ephemeral ports to outgoing connections; a server port from that range can be taken by a
        // client socket before the server binds it (a drill once saw an instance exit while starting).
        var low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        var ports = Enumerable.Range(0, 200).Select(_ => FreePort.Next()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, p => Assert.InRange(p, 1024, low - 1));
        var pairs = Enumerable.Range(0, 50).Select(_ => FreePort.Next(10000)).ToList();
        Assert.All(pairs, p => Assert.InRange(p + 10000, 1024, low - 1));
        foreach (var p in ports.Take(20).Concat(pairs.Take(10)).Concat(pairs.Take(10).Select(p => p + 10000)))
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, p);
            listener.Start(); // throws if the port was not free
        }
    }

    [Fact]
    public void Missing_binary_names_the_package_and_the_install_command()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            ServerBinaries.Find("no-such-server-binary", ["/nonexistent"], "some-package", "sudo apt-get install -y some-package"));
        Assert.Contains("no-such-server-binary", ex.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y some-package", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fake_clock_moves_only_when_told_and_fires_timers()
    {
        var clock = new FakeTimeProvider();
        var start = clock.GetUtcNow();
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, fired);
        clock.Advance(TimeSpan.FromSeconds(21));
        Assert.Equal(3, fired);
        Assert.Equal(start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public void Metric_collector_sum_sees_measurements_with_tags()
    {
        using var meter = new System.Diagnostics.Metrics.Meter("Hardening.Testing.Self");
        var counter = meter.CreateCounter<long>("test.count");
        using var collector = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(counter);
        counter.Add(2, new KeyValuePair<string, object?>("reason", "x"));
        counter.Add(3, new KeyValuePair<string, object?>("reason", "y"));
        Assert.Equal(5, collector.Sum());
        Assert.Equal(2, collector.Sum("reason", "x"));
        Assert.Equal(0, collector.Sum("reason", "z"));
    }
}

/// <summary>The shared servers every package's tests run against are the real ones.</summary>
public sealed class HarnessServerTests(PostgresFixture postgres, RedisFixture redis) : IClassFixture<PostgresFixture>, IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Harness_postgres_is_a_real_postgresql_15()
    {
        var version = await postgres.Server.ScalarAsync<int>("SELECT current_setting('server_version_num')::int");
        Assert.InRange(version, 150000, 159999);
    }

    [Fact]
    public async Task Harness_redis_answers_ping_on_a_raw_socket() =>
        Assert.Equal("+PONG", await redis.Server.PingAsync());
}
