using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth.Tests.RateLimiting;

public sealed class RedisRateLimiterTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static async Task<WebApplication> StartAsync(string redisConnection, int permits, TimeSpan window, Tokens.CollectingLoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        var prefix = $"rl:{Guid.NewGuid():N}:";
        builder.Services.AddHardeningRedisRateLimiter(o =>
        {
            o.RedisConnectionString = redisConnection;
            o.PermitLimit = permits;
            o.Window = window;
            o.KeyPrefix = prefix;
            o.PartitionKey = http => http.Request.Headers["X-Tenant"].ToString();
        });
        var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/", () => "ok");
        await app.StartAsync();
        return app;
    }

    private static async Task<HttpResponseMessage> GetAsync(WebApplication app, string tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Tenant", tenant);
        return await app.GetTestClient().SendAsync(request);
    }

    private static string Header(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : "";

    [Fact]
    public async Task Permits_run_out_then_429_with_retry_after_and_ratelimit_headers()
    {
        await using var app = await StartAsync(redis.ConnectionString, permits: 3, window: TimeSpan.FromMinutes(1));
        for (var remaining = 2; remaining >= 0; remaining--)
        {
            var ok = await GetAsync(app, "acme");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", Header(ok, "RateLimit-Limit"));
            Assert.Equal(remaining.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(ok, "RateLimit-Remaining"));
        }

        var refused = await GetAsync(app, "acme");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("0", Header(refused, "RateLimit-Remaining"));
        Assert.InRange(int.Parse(Header(refused, "Retry-After"), System.Globalization.CultureInfo.InvariantCulture), 1, 20); // one permit per 20 s
        Assert.InRange(int.Parse(Header(refused, "RateLimit-Reset"), System.Globalization.CultureInfo.InvariantCulture), 41, 60);

        // Another partition has its own budget.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, "globex")).StatusCode);
    }

    [Fact]
    public async Task Two_app_instances_share_one_budget_through_redis()
    {
        var prefixShared = $"shared-{Guid.NewGuid():N}:";
        var statuses = new List<HttpStatusCode>();
        await using var c = await StartSharedAsync(redis.ConnectionString, prefixShared);
        await using var d = await StartSharedAsync(redis.ConnectionString, prefixShared);
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await GetAsync(c, "acme")).StatusCode);
            statuses.Add((await GetAsync(d, "acme")).StatusCode);
        }

        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Redis_down_answers_429_fail_closed_with_a_logged_event()
    {
        await using var server = await RedisServer.StartAsync();
        var logs = new Tokens.CollectingLoggerProvider();
        await using var app = await StartAsync(server.ConnectionString + ",connectTimeout=500,syncTimeout=1000", 100, TimeSpan.FromMinutes(1), logs);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, "acme")).StatusCode);
        await server.StopAsync();
        var refused = await GetAsync(app, "acme");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("1", Header(refused, "Retry-After"));
        Assert.NotEmpty(logs.Events("RateLimitStoreUnavailable"));
    }

    private static async Task<WebApplication> StartSharedAsync(string redisConnection, string prefix)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddHardeningRedisRateLimiter(o =>
        {
            o.RedisConnectionString = redisConnection;
            o.PermitLimit = 4;
            o.Window = TimeSpan.FromMinutes(1);
            o.KeyPrefix = prefix;
            o.PartitionKey = http => http.Request.Headers["X-Tenant"].ToString();
        });
        var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/", () => "ok");
        await app.StartAsync();
        return app;
    }
}
