using Hardening.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>The replay store's readiness check (<c>AddHardeningTokenReplayStoreCheck</c>) against a real redis-server.</summary>
public sealed class TokenReplayStoreHealthTests
{
    [Fact]
    public async Task The_check_is_unhealthy_by_name_while_redis_is_stopped_and_recovers_when_it_is_back()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await connection.GetServers()[0].ConfigSetAsync("appendonly", "yes"); // persistence on: nothing to warn about
        await using var services = Build(connection);
        var health = services.GetRequiredService<HealthCheckService>();

        var ready = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
        var entry = Assert.Single(ready.Entries);
        Assert.Equal("hardening-auth-replay-store", entry.Key);
        Assert.Equal(HealthStatus.Healthy, entry.Value.Status);
        Assert.True((double)entry.Value.Data[$"round_trip_ms {connection.GetServers()[0].EndPoint}"] >= 0);
        Assert.Equal("redis", entry.Value.Data["store"]);

        await server.StopAsync();
        var down = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
        Assert.Equal(HealthStatus.Unhealthy, down.Entries["hardening-auth-replay-store"].Status);
        Assert.StartsWith("The token replay store: Redis", down.Entries["hardening-auth-replay-store"].Description, StringComparison.Ordinal);

        await server.RestartAsync();
        for (var i = 0; i < 200 && !connection.GetServers()[0].IsConnected; i++)
        {
            await Task.Delay(50);
        }

        await connection.GetServers()[0].ConfigSetAsync("appendonly", "yes");
        var status = HealthStatus.Unhealthy;
        for (var i = 0; i < 200 && status != HealthStatus.Healthy; i++)
        {
            await Task.Delay(100);
            status = (await health.CheckHealthAsync()).Status;
        }

        Assert.Equal(HealthStatus.Healthy, status);
    }

    public static TheoryData<string> EvictingPolicies => new() { "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random" };

    [Theory]
    [MemberData(nameof(EvictingPolicies))]
    public async Task An_eviction_policy_that_can_drop_consumed_tokens_is_unhealthy_and_named(string policy)
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        var redis = connection.GetServers()[0];
        await redis.ConfigSetAsync("appendonly", "yes");
        await using var services = Build(connection);
        var health = services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        await redis.ConfigSetAsync("maxmemory", "100mb");
        await redis.ConfigSetAsync("maxmemory-policy", policy);
        var result = (await health.CheckHealthAsync()).Entries["hardening-auth-replay-store"];
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains($"'{policy}'", result.Description, StringComparison.Ordinal);

        await redis.ConfigSetAsync("maxmemory-policy", "noeviction"); // writes fail when full: the guard fails closed
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task Without_persistence_the_check_is_degraded_and_says_what_a_restart_costs()
    {
        await using var server = await RedisServer.StartAsync(); // the harness runs Redis with save "" and appendonly no
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await using var services = Build(connection);
        var result = (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["hardening-auth-replay-store"];
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("appendonly is off", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_in_process_store_is_healthy_and_says_so()
    {
        var collection = new ServiceCollection().AddLogging();
        collection.AddHardeningTokenReplayGuard();
        collection.AddHealthChecks().AddHardeningTokenReplayStoreCheck("replay");
        await using var services = collection.BuildServiceProvider();
        var result = (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["replay"];
        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal("memory", result.Data["store"]);
    }

    [Fact]
    public async Task Without_the_replay_guard_the_check_is_unhealthy_and_says_what_to_register()
    {
        var collection = new ServiceCollection().AddLogging();
        collection.AddHealthChecks().AddHardeningTokenReplayStoreCheck();
        await using var services = collection.BuildServiceProvider();
        var result = (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["hardening-auth-replay-store"];
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("AddHardeningTokenReplayGuard", result.Description, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(IConnectionMultiplexer connection)
    {
        var collection = new ServiceCollection().AddLogging();
        collection.AddSingleton(connection);
        collection.AddHardeningTokenReplayGuard(o =>
        {
            o.UseRedis = true;
            o.StoreTimeout = TimeSpan.FromMilliseconds(500);
        });
        collection.AddHealthChecks().AddHardeningTokenReplayStoreCheck();
        return collection.BuildServiceProvider();
    }
}
