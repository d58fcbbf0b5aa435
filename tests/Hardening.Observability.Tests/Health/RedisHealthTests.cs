using System.Net;
using System.Text.Json;
using Hardening.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hardening.Observability.Tests.Health;

public sealed class RedisHealthTests
{
    [Fact]
    public async Task Readiness_is_503_naming_redis_when_it_is_stopped_liveness_stays_200_and_readiness_recovers()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await connection.GetServers()[0].ConfigSetAsync("appendonly", "yes"); // persistence on: nothing to warn about
        await using var app = await TestApp.StartAsync(
            b =>
            {
                b.Services.AddSingleton<IConnectionMultiplexer>(connection);
                b.Services.AddHardeningObservability(o => o.Readiness.RedisTimeout = TimeSpan.FromMilliseconds(500)).AddHardeningRedisCheck();
            },
            a => a.MapHardeningHealthChecks());
        var client = app.Client();

        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using (var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()))
        {
            var check = json.RootElement.GetProperty("checks").EnumerateArray().Single();
            Assert.Equal("redis", check.GetProperty("name").GetString());
            Assert.Equal("Healthy", check.GetProperty("status").GetString());
            Assert.True(check.GetProperty("data").GetProperty($"round_trip_ms {connection.GetServers()[0].EndPoint}").GetDouble() >= 0);
        }

        await server.StopAsync();

        var down = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        using (var json = JsonDocument.Parse(await down.Content.ReadAsStringAsync()))
        {
            var check = json.RootElement.GetProperty("checks").EnumerateArray().Single();
            Assert.Equal("redis", check.GetProperty("name").GetString());
            Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);

        await server.RestartAsync();
        await WaitConnectedAsync(connection);
        await connection.GetServers()[0].ConfigSetAsync("appendonly", "yes");
        var status = HttpStatusCode.ServiceUnavailable;
        for (var i = 0; i < 200 && status != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
            status = (await client.GetAsync("/health/ready")).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, status);
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
        var check = new RedisHealthCheck(connection, Options.Create(new HardeningObservabilityOptions()));
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        await redis.ConfigSetAsync("maxmemory", "100mb");
        await redis.ConfigSetAsync("maxmemory-policy", policy);
        var result = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains($"'{policy}'", result.Description, StringComparison.Ordinal);

        await redis.ConfigSetAsync("maxmemory-policy", "noeviction"); // writes fail when full: the packages fail closed
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task Without_persistence_readiness_is_degraded_and_says_what_a_restart_costs()
    {
        await using var server = await RedisServer.StartAsync(); // the harness runs Redis with save "" and appendonly no
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        var check = new RedisHealthCheck(connection, Options.Create(new HardeningObservabilityOptions()));
        var result = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("appendonly is off", result.Description, StringComparison.Ordinal);
    }

    private static async Task WaitConnectedAsync(IConnectionMultiplexer connection)
    {
        for (var i = 0; i < 200 && !connection.GetServers()[0].IsConnected; i++)
        {
            await Task.Delay(50);
        }
    }
}
