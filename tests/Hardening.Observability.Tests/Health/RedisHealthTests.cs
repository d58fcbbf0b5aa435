using System.Net;
using System.Text.Json;
using Hardening.Redis;
using Hardening.Observability.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Hardening.Observability.Tests.Health;

public sealed class RedisHealthTests
{
    [Fact]
    public async Task Readiness_is_503_naming_redis_when_it_is_stopped_liveness_stays_200_and_readiness_recovers()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await RedisConnection.ConnectAsync(server.ConnectionString);
        await using var app = await TestApp.StartAsync(
            b =>
            {
                b.Services.AddSingleton(connection);
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
            Assert.Equal("Connected", check.GetProperty("data").GetProperty("state").GetString());
            Assert.True(check.GetProperty("data").GetProperty("round_trip_ms").GetDouble() >= 0);
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
        var status = HttpStatusCode.ServiceUnavailable;
        for (var i = 0; i < 200 && status != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
            status = (await client.GetAsync("/health/ready")).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task A_first_check_on_a_connection_that_is_still_connecting_reports_the_state_after_its_ping()
    {
        await using var server = await RedisServer.StartAsync();
        for (var i = 0; i < 20; i++)
        {
            // Create returns at once and connects in the background: the check's PING waits for the connection.
            await using var connection = RedisConnection.Create(RedisConnectionOptions.Parse(server.ConnectionString));
            var check = new RedisHealthCheck(connection, Options.Create(new HardeningObservabilityOptions()));
            var result = await check.CheckHealthAsync(new HealthCheckContext());
            Assert.Equal(HealthStatus.Healthy, result.Status);
            Assert.Equal("Connected", result.Data["state"]);
        }
    }
}
