using Hardening.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// The start-up warm-up of the Redis replay store (markers laid, risky settings logged, failures logged and not fatal),
/// the Redis health check's wording, and the parts of <see cref="TokenReplayGuard.Create"/> that a caller supplies.
/// </summary>
public sealed class ReplayStoreWarmupTests
{
    private static ServiceProvider Build(IConnectionMultiplexer? connection, FakeLogCollector logs, string prefix, bool useRedis = true)
    {
        var collection = new ServiceCollection().AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Trace));
        if (connection is not null)
        {
            collection.AddSingleton(connection);
        }

        collection.AddHardeningTokenReplayGuard(o =>
        {
            o.UseRedis = useRedis;
            o.KeyPrefix = prefix;
            o.StoreTimeout = TimeSpan.FromMilliseconds(500);
        });
        collection.AddHealthChecks().AddHardeningTokenReplayStoreCheck("replay");
        return collection.BuildServiceProvider();
    }

    private static async Task StartAsync(ServiceProvider services)
    {
        foreach (var hosted in services.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Start_up_lays_the_markers_and_logs_each_risky_setting_at_its_level()
    {
        await using var server = await RedisServer.StartAsync(); // save "" and appendonly no: no persistence
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await connection.GetServers()[0].ConfigSetAsync("maxmemory", "100mb");
        await connection.GetServers()[0].ConfigSetAsync("maxmemory-policy", "allkeys-lru");
        var logs = new FakeLogCollector();
        await using var services = Build(connection, logs, "warm:");
        await StartAsync(services);

        var db = connection.GetDatabase();
        Assert.All(ReplayKey.AllRedisMarkers("warm:"), m => Assert.True(db.KeyExists(m), m));
        var settings = logs.GetSnapshot().Where(r => r.Id.Name == "ReplayStoreSetting").ToList();
        Assert.True(settings.Any(r => r.Level == LogLevel.Error && r.Id.Id == 4116 && r.Message.StartsWith($"Redis server {server.ConnectionString}: ", StringComparison.Ordinal)), string.Join("\n", settings.Select(r => r.Level + " " + r.Message)));
        Assert.Contains(settings, r => r.Level == LogLevel.Warning);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Name == "ReplayStoreWarmupFailed");

        var health = (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["replay"];
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.StartsWith("The token replay store: Redis answered PING, but a setting lets it forget", health.Description, StringComparison.Ordinal);
        Assert.Equal("redis", health.Data["store"]);
    }

    [Fact]
    public async Task A_warm_up_against_a_stopped_redis_is_logged_and_does_not_fail_the_start()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await server.StopAsync();
        var logs = new FakeLogCollector();
        await using var services = Build(connection, logs, "cold:");
        await StartAsync(services);
        var failed = Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "ReplayStoreWarmupFailed");
        Assert.Equal(4110, failed.Id.Id);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.NotNull(failed.Exception);
    }

    [Fact]
    public async Task A_cancelled_start_propagates_the_cancellation()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        await server.StopAsync(); // the markers cannot be laid, so the warm-up waits and sees the cancellation
        var logs = new FakeLogCollector();
        await using var services = Build(connection, logs, "cancel:");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var warmup = services.GetServices<IHostedService>().Single(s => s.GetType().Name == "ReplayStoreWarmup");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => warmup.StartAsync(cts.Token));
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Name == "ReplayStoreWarmupFailed");
        await warmup.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_redis_failure_during_a_cancelled_start_is_logged_as_a_failure_not_thrown()
    {
        // Only a cancellation of this start propagates; Redis refusing the settings check (here: an ACL user that may
        // not run scripts) is a warm-up failure even when the start is being cancelled at the same moment.
        await using var server = await RedisServer.StartAsync();
        await using (var admin = await TestRedis.ConnectAsync(server.ConnectionString))
        {
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", "noscripts", "on", "nopass", "~*", "&*", "+@all", "-eval", "-evalsha");
        }

        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString, o =>
        {
            o.User = "noscripts";
            o.Password = "unused";
        });
        var logs = new FakeLogCollector();
        await using var services = Build(connection, logs, "noscripts:");
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(TokenConsumeResult.Consumed, await services.GetRequiredService<TokenReplayGuard>().ConsumeAsync("iss", "m", now, now.AddMinutes(1))); // the markers are laid
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var warmup = services.GetServices<IHostedService>().Single(s => s.GetType().Name == "ReplayStoreWarmup");
        await warmup.StartAsync(cts.Token);
        var failed = Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "ReplayStoreWarmupFailed");
        Assert.IsType<RedisServerException>(failed.Exception);
        Assert.Contains("NOPERM", failed.Exception!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_in_process_store_has_nothing_to_warm_up()
    {
        var logs = new FakeLogCollector();
        await using var services = Build(null, logs, "memory:", useRedis: false);
        await StartAsync(services);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Name is "ReplayStoreSetting" or "ReplayStoreWarmupFailed");

        // Its health entry says so (an operator reading /health/ready sees that this instance cannot share its memory).
        var health = (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["replay"];
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal("The token replay store is in-process (one instance only).", health.Description);
        Assert.Equal("memory", health.Data["store"]);
    }

    [Fact]
    public async Task Create_uses_the_callers_clock_loggers_and_meters()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { "127.0.0.1:1" }, AbortOnConnectFail = false, ConnectTimeout = 100 });
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var logs = new FakeLogCollector();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
        await using var meterServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = meterServices.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var rejected = new MetricCollector<long>(meters, AuthMetrics.MeterName, "hardening.auth.token.rejected");
        var guard = TokenReplayGuard.Create(redis, null, time, loggers, meters);

        // Expired by the caller's clock (2030), though not by the system clock; decided before Redis is asked.
        var exp = new DateTimeOffset(2029, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(TokenConsumeResult.Expired, await guard.ConsumeAsync("iss", "j", exp.AddHours(-1), exp));
        Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "ExpiredTokenNotConsumed");
        Assert.Equal(1, rejected.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public void The_stores_need_their_arguments()
    {
        var options = new TokenReplayGuardOptions();
        Assert.Throws<ArgumentNullException>("redis", () => new RedisTokenReplayStore(null!, options, TimeProvider.System));
        using var redis = ConnectionMultiplexer.Connect(new ConfigurationOptions { EndPoints = { "127.0.0.1:1" }, AbortOnConnectFail = false, ConnectTimeout = 100 });
        Assert.Throws<ArgumentNullException>("options", () => new RedisTokenReplayStore(redis, null!, TimeProvider.System));
        Assert.Equal("maxEntries", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryTokenReplayStore(0, TimeProvider.System)).ParamName);
        Assert.NotNull(new InMemoryTokenReplayStore(1, TimeProvider.System));
        Assert.Throws<ArgumentNullException>("time", () => new InMemoryTokenReplayStore(1, null!));
    }
}
