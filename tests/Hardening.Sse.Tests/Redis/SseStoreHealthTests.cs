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
