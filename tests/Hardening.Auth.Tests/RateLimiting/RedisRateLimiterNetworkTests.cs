using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using Hardening.Auth.Tests.Throttling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth.Tests.RateLimiting;

/// <summary>
/// The default partition of the Redis rate limiter (the client's network) behind a proxy on loopback, with the client
/// address taken from <c>X-Forwarded-For</c> by ASP.NET Core's own forwarded-headers middleware, as the README
/// tells apps to do. Issue 16: a client rotating /64s inside its /56 or /48 gets no more than those prefixes' budgets.
/// </summary>
public abstract class RedisRateLimiterNetworkTests(IRedisTarget redis) : IAsyncLifetime
{
    private const int Permits = 2; // per /64; /56 and /48 get the defaults, 4x and 16x
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(redis.Multiplexer);
        builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor);
        builder.Services.AddRateLimiter(o => o.AddRedisGcraLimiter("per-client", p =>
        {
            p.PermitLimit = Permits;
            p.Window = TimeSpan.FromHours(1); // no permit comes back while a case runs: the model needs no clock
            p.KeyPrefix = $"rln:{Guid.NewGuid():N}:";
        }));
        _app = builder.Build();

        // The test server has no connection address; a request with X-Forwarded-For comes "from the proxy" on loopback.
        _app.Use((context, next) =>
        {
            if (context.Request.Headers.ContainsKey("X-Forwarded-For"))
            {
                context.Connection.RemoteIpAddress = IPAddress.Loopback;
            }

            return next(context);
        });
        _app.UseForwardedHeaders();
        _app.UseRateLimiter();
        _app.MapGet("/", () => "ok").RequireRateLimiting("per-client");
        await _app.StartAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpStatusCode> GetAsync(IPAddress? client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        if (client is not null)
        {
            request.Headers.Add("X-Forwarded-For", client.ToString());
        }

        using var response = await _app.GetTestClient().SendAsync(request);
        return response.StatusCode;
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(ClientNetworkTests.Cases)])]
    public bool A_client_rotating_64s_inside_its_prefix_gets_no_more_than_each_prefix_budget(ClientNetworkTests.Spray spray)
    {
        // The model: a counter per /64, /56 and /48; a request is admitted while none has reached its budget.
        var counters = new Dictionary<(int, UInt128), int>();
        (int Length, int Budget)[] scopes = [(64, Permits), (56, 4 * Permits), (48, 16 * Permits)];
        var n = 0;
        var history = new List<string>();
        foreach (var address in spray.Addresses)
        {
            n++;
            var expected = scopes.All(s => counters.GetValueOrDefault((s.Length, ClientNetworkTests.Mask(address, s.Length))) < s.Budget);
            var status = GetAsync(ClientNetworkTests.ToAddress(address)).GetAwaiter().GetResult();
            history.Add($"{ClientNetworkTests.ToAddress(address)} {(int)status}");
            if ((status == HttpStatusCode.OK) != expected || status is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests))
            {
                throw new InvalidOperationException($"request {n} from {ClientNetworkTests.ToAddress(address)}: expected {(expected ? 200 : 429)}, got {(int)status}; so far: {string.Join(", ", history)}");
            }

            if (expected)
            {
                foreach (var s in scopes)
                {
                    var key = (s.Length, ClientNetworkTests.Mask(address, s.Length));
                    counters[key] = counters.GetValueOrDefault(key) + 1;
                }
            }
        }

        return true;
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(ClientNetworkTests.Cases)])]
    public bool An_IPv4_client_and_its_mapped_IPv6_form_share_one_budget(IPAddress v4)
    {
        var statuses = new[] { v4, v4.MapToIPv6(), v4, v4.MapToIPv6() }.Select(a => GetAsync(a).GetAwaiter().GetResult()).ToArray();
        return statuses.Count(s => s == HttpStatusCode.OK) == Permits && statuses.All(s => s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task A_request_without_a_client_address_is_refused_and_does_not_spend_anyone_elses_budget()
    {
        var client = IPAddress.Parse($"2001:db8:{Random.Shared.Next(0xffff):x}::1");
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(null));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(null));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(client));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(client));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(client));
    }

    [Fact]
    public void Network_limits_with_a_partition_key_of_ones_own_are_refused_with_the_option_named()
    {
        var options = new RateLimiterOptions();
        var e = Assert.Throws<ArgumentException>(() => options.AddRedisGcraLimiter("p", p =>
        {
            p.PartitionKey = http => http.User.Identity?.Name;
            p.Ipv6NetworkLimits = new Dictionary<int, int> { [48] = 1_000 };
        }));
        Assert.Contains("Ipv6NetworkLimits", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => options.AddRedisGcraLimiter("q", p => p.Ipv6NetworkLimits = new Dictionary<int, int> { [64] = 10 }));
        Assert.Contains("Ipv6NetworkLimits[64]", e.Message, StringComparison.Ordinal);
    }
}

public sealed class RedisRateLimiterNetworkOnOneServerTests(RedisFixture redis) : RedisRateLimiterNetworkTests(redis), IClassFixture<RedisFixture>;

public sealed class RedisRateLimiterNetworkOnClusterTests(RedisClusterFixture redis) : RedisRateLimiterNetworkTests(redis), IClassFixture<RedisClusterFixture>;
