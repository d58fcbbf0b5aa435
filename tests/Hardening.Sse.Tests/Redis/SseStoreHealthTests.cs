using Hardening.Sse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Hardening.Sse.Tests.Redis;

/// <summary>The event store's readiness check (<c>AddHardeningSseStoreCheck</c>) against a real redis-server.</summary>
public sealed class SseStoreHealthTests
{
    private const string Name = "hardening-sse-store";

    [Fact]
    public async Task The_redis_store_is_healthy_with_a_connected_backplane_and_unhealthy_by_name_while_redis_is_stopped()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await connection.GetServers()[0].ConfigSetAsync("appendonly", "yes");
        await using var services = Build(connection);
        var health = services.GetRequiredService<HealthCheckService>();

        var ready = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
        var entry = Assert.Single(ready.Entries);
        Assert.Equal(Name, entry.Key);
        Assert.Equal(HealthStatus.Healthy, entry.Value.Status);
        Assert.Equal(true, entry.Value.Data["backplane_connected"]);

        await server.StopAsync();
        var down = (await health.CheckHealthAsync()).Entries[Name];
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.StartsWith("The SSE event store: Redis", down.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_master_that_died_and_was_failed_over_does_not_keep_the_store_unready()
    {
        // Found by the faults drill (issue 19): the check pinged every primary the multiplexer had known, so a killed
        // master whose slots a replica now serves kept every instance unready (and out of the load balancer) until
        // the dead node came back.
        await using var cluster = await RedisCluster.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(cluster.ConnectionString);
        await using var services = Build(connection);
        var health = services.GetRequiredService<HealthCheckService>();
        Assert.NotEqual(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Entries[Name].Status);

        var victim = await cluster.MasterOfAsync("sse:{s}:meta");
        await victim.StopAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if (!ReferenceEquals(await cluster.MasterOfAsync("sse:{s}:meta"), victim))
                {
                    break;
                }
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
            }

            await Task.Delay(50);
        }

        await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));

        // Traffic to the moved slots makes the multiplexer learn the new map (as an app's requests would).
        HealthReportEntry entry;
        do
        {
            try
            {
                await connection.GetDatabase().StringSetAsync("sse:{s}:probe", "1");
            }
            catch (RedisException)
            {
            }

            await Task.Delay(100);
            entry = (await health.CheckHealthAsync()).Entries[Name];
        }
        while (entry.Status == HealthStatus.Unhealthy && DateTime.UtcNow < deadline.AddSeconds(30));

        Assert.True(entry.Status != HealthStatus.Unhealthy, entry.Description);
        Assert.DoesNotContain(entry.Data.Keys, k => k.Contains(victim.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) && k.StartsWith("round_trip", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_evicting_policy_is_unhealthy_and_no_persistence_is_degraded()
    {
        await using var server = await RedisServer.StartAsync(); // appendonly no
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await using var services = Build(connection);
        var health = services.GetRequiredService<HealthCheckService>();
        var weak = (await health.CheckHealthAsync()).Entries[Name];
        Assert.Equal(HealthStatus.Degraded, weak.Status);
        Assert.Contains("appendonly is off", weak.Description, StringComparison.Ordinal);

        await connection.GetServers()[0].ConfigSetAsync("maxmemory", "100mb");
        await connection.GetServers()[0].ConfigSetAsync("maxmemory-policy", "allkeys-lru");
        var unsafeResult = (await health.CheckHealthAsync()).Entries[Name];
        Assert.Equal(HealthStatus.Unhealthy, unsafeResult.Status);
        Assert.Contains("'allkeys-lru'", unsafeResult.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_in_process_store_is_healthy_and_says_so()
    {
        var collection = new ServiceCollection().AddLogging();
        collection.AddHardeningSse();
        collection.AddHealthChecks().AddHardeningSseStoreCheck();
        await using var services = collection.BuildServiceProvider();
        var result = (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries[Name];
        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal("memory", result.Data["store"]);
    }

    private static ServiceProvider Build(IConnectionMultiplexer connection)
    {
        var collection = new ServiceCollection().AddLogging();
        collection.AddSingleton(connection);
        collection.AddHardeningSse(o =>
        {
            o.UseRedis = true;
            o.StoreTimeout = TimeSpan.FromMilliseconds(500);
        });
        collection.AddHealthChecks().AddHardeningSseStoreCheck();
        return collection.BuildServiceProvider();
    }
}
