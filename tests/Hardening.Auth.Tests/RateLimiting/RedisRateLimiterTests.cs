using System.Net;
using Hardening.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.RateLimiting;

/// <summary>The Redis rate-limiting policy through ASP.NET Core's middleware, on one server and on the cluster.</summary>
public abstract class RedisRateLimiterTests(IRedisTarget redis)
{
    protected static async Task<WebApplication> StartAsync(IConnectionMultiplexer multiplexer, int permits, TimeSpan window, string? prefix = null, FakeLogCollector? logs = null, Func<HttpContext, string?>? partition = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        }

        builder.Services.AddSingleton(multiplexer);
        prefix ??= $"rl:{Guid.NewGuid():N}:";
        builder.Services.AddRateLimiter(o => o.AddRedisGcraLimiter("per-tenant", p =>
        {
            p.PermitLimit = permits;
            p.Window = window;
            p.KeyPrefix = prefix;
            p.PartitionKey = partition ?? (http => http.Request.Headers["X-Tenant"].ToString());
        }));
        var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/", () => "ok").RequireRateLimiting("per-tenant");
        app.MapGet("/open", () => "ok");
        await app.StartAsync();
        return app;
    }

    protected static async Task<HttpResponseMessage> GetAsync(WebApplication app, string tenant, string path = "/")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Tenant", tenant);
        return await app.GetTestClient().SendAsync(request);
    }

    protected static string Header(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : "";

    [Fact]
    public async Task Permits_run_out_then_429_with_retry_after_and_ratelimit_headers()
    {
        await using var app = await StartAsync(redis.Multiplexer, permits: 3, window: TimeSpan.FromMinutes(1));
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

        // Another partition has its own budget, and an endpoint without the policy is not limited (no global limiter).
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, "globex")).StatusCode);
        for (var i = 0; i < 10; i++)
        {
            var open = await GetAsync(app, "acme", "/open");
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            Assert.Equal("", Header(open, "RateLimit-Limit"));
        }
    }

    [Fact]
    public async Task Two_app_instances_share_one_budget_through_redis()
    {
        var prefix = $"shared-{Guid.NewGuid():N}:";
        var statuses = new List<HttpStatusCode>();
        await using var other = await TestRedis.ConnectAsync(redis.ConnectionString);
        await using var c = await StartAsync(redis.Multiplexer, 4, TimeSpan.FromMinutes(1), prefix);
        await using var d = await StartAsync(other, 4, TimeSpan.FromMinutes(1), prefix);
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await GetAsync(c, "acme")).StatusCode);
            statuses.Add((await GetAsync(d, "acme")).StatusCode);
        }

        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task A_request_without_a_partition_key_is_refused_not_pooled_with_others()
    {
        await using var app = await StartAsync(redis.Multiplexer, 100, TimeSpan.FromMinutes(1), partition: _ => null);
        var refused = await GetAsync(app, "acme");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    [Fact]
    public void Invalid_policy_options_are_refused_with_the_option_named()
    {
        var options = new RateLimiterOptions();
        var ex = Assert.Throws<ArgumentException>(() => options.AddRedisGcraLimiter("p", p => p.PermitLimit = 0));
        Assert.Contains("PermitLimit", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => options.AddRedisGcraLimiter("bad name", _ => { }));
    }
}

public sealed class RedisRateLimiterOnOneServerTests(RedisFixture redis) : RedisRateLimiterTests(redis), IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Redis_down_answers_429_fail_closed_with_a_logged_event()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(server.ConnectionString);
        var logs = new FakeLogCollector();
        await using var app = await StartAsync(connection, 100, TimeSpan.FromMinutes(1), logs: logs);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, "acme")).StatusCode);
        await server.StopAsync();
        var refused = await GetAsync(app, "acme");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("1", Header(refused, "Retry-After"));
        Assert.NotEmpty(logs.Events("RateLimitStoreUnavailable"));
    }
}

public sealed class RedisRateLimiterOnClusterTests(RedisClusterFixture redis) : RedisRateLimiterTests(redis), IClassFixture<RedisClusterFixture>;
