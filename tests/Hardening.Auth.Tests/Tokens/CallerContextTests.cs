using System.Security.Claims;
using Hardening.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// The replay guard, its Redis store, its start-up warm-up and the JwtBearer hook never resume on the caller's
/// <see cref="SynchronizationContext"/>: a caller that blocks on them (a UI thread, legacy ASP.NET, IdentityModel's
/// synchronous <see cref="ITokenReplayCache"/>) would deadlock. Redis is reached through a slow link (each reply held
/// 5 ms), so every store call really waits. Each await of a method counts only while the method still runs on the
/// caller's context, i.e. until its first await that waits; the scenarios below make each await the first one that
/// waits once. Awaits after that are held to the same rule by the CA2007 analyzer (an error in package code).
/// </summary>
public sealed class CallerContextTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan SlowLink = TimeSpan.FromMilliseconds(5);
    private static readonly SymmetricSecurityKey Key = new("0123456789abcdef0123456789abcdef-test-key"u8.ToArray());

    private async Task<SlowRedis> SlowRedisAsync()
    {
        var proxy = RoundTripProxy.Start(redis.Server.Host, redis.Server.Port, SlowLink, postgres: false);
        return new SlowRedis(proxy, await TestRedis.ConnectAsync($"{redis.Server.Host}:{proxy.Port}"));
    }

    /// <summary>A multiplexer that reaches the shared server through a slow link.</summary>
    private sealed record SlowRedis(RoundTripProxy Proxy, ConnectionMultiplexer Connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            await Proxy.DisposeAsync();
        }
    }

    private static string NewPrefix() => $"ctx:{Guid.NewGuid():N}:";

    [Fact]
    public async Task Consuming_on_redis_does_not_resume_on_the_callers_context()
    {
        await using var slow = await SlowRedisAsync();
        var connection = slow.Connection;
        var context = new CallerContext();
        var now = DateTimeOffset.UtcNow;

        // Built under the context: the constructor starts laying the markers; the first consume waits for them.
        var guard = await context.Value(() => Task.FromResult(TokenReplayGuard.Create(connection, new TokenReplayGuardOptions { UseRedis = true, KeyPrefix = NewPrefix() })));
        Assert.Equal(TokenConsumeResult.Consumed, await context.Value(() => guard.ConsumeAsync("iss", "a", now, now.AddMinutes(5)).AsTask()));
        Assert.Equal(TokenConsumeResult.Replayed, await context.Value(() => guard.ConsumeAsync("iss", "a", now, now.AddMinutes(5)).AsTask()));
        Assert.True(await context.Value(() => guard.TryConsumeAsync("iss", "b", now, now.AddMinutes(5)).AsTask()));
        Assert.False(await context.Value(() => guard.TryConsumeAsync("iss", "b", now, now.AddMinutes(5)).AsTask()));

        // IdentityModel's synchronous cache blocks on the guard: it must neither deadlock nor post.
        var cache = new TokenReplayCache(guard);
        var jwt = new JsonWebTokenHandler().CreateToken(Descriptor("c"));
        Assert.True(await context.Value(() => Task.FromResult(cache.TryAdd(jwt, now.AddMinutes(5).UtcDateTime))));
        await Assert.ThrowsAsync<SecurityTokenReplayDetectedException>(() => context.Value(() => Task.FromResult(cache.TryAdd(jwt, now.AddMinutes(5).UtcDateTime))));

        Assert.Equal(0, context.Posts);
    }

    [Fact]
    public async Task The_start_up_warm_up_does_not_resume_on_the_callers_context()
    {
        await using var slow = await SlowRedisAsync();
        var connection = slow.Connection;
        var context = new CallerContext();

        // Started while the markers are still being laid (the wait for them is the first await that waits) ...
        await using (var early = Services(connection, NewPrefix()))
        {
            await context.Run(() => Warmup(early).StartAsync(CancellationToken.None));
        }

        // ... and once they are (the server-settings check is).
        await using (var late = Services(connection, NewPrefix()))
        {
            var guard = late.GetRequiredService<TokenReplayGuard>();
            var now = DateTimeOffset.UtcNow;
            await guard.ConsumeAsync("iss", "warm", now, now.AddMinutes(1)); // the markers are laid
            await context.Run(() => Warmup(late).StartAsync(CancellationToken.None));
        }

        Assert.Equal(0, context.Posts);
    }

    [Fact]
    public async Task The_jwt_bearer_hook_does_not_resume_on_the_callers_context()
    {
        await using var slow = await SlowRedisAsync();
        var connection = slow.Connection;
        var context = new CallerContext();

        // On Redis: the consume is the first await that waits.
        await using (var onRedis = Services(connection, NewPrefix(), jwt: true))
        {
            var token = Token("redis-1");
            var validated = Validated(onRedis, token);
            await context.Run(() => validated.Options.Events.TokenValidated(validated));
            Assert.Null(validated.Result); // accepted: the hook did not fail it
            var replayed = Validated(onRedis, token);
            await context.Run(() => replayed.Options.Events.TokenValidated(replayed));
            Assert.False(replayed.Result?.Succeeded ?? true); // refused: the same jti
        }

        // In memory (completes at once): the app's own handler, which waits, is the first await that waits.
        var appHandlerRan = 0;
        await using (var inMemory = Services(connection, NewPrefix(), jwt: true, useRedis: false, appValidated: async c =>
        {
            await Task.Delay(SlowLink).ConfigureAwait(false);
            Interlocked.Increment(ref appHandlerRan);
        }))
        {
            var validated = Validated(inMemory, Token("memory-1"));
            await context.Run(() => validated.Options.Events.TokenValidated(validated));
            Assert.Null(validated.Result);
        }

        Assert.Equal(1, appHandlerRan);
        Assert.Equal(0, context.Posts);
    }

    [Fact]
    public async Task The_caller_context_sees_a_continuation_that_is_posted_to_it()
    {
        // The checks above can fail: an await that keeps the context posts to it through the same slow link.
        await using var slow = await SlowRedisAsync();
        var connection = slow.Connection;
        var context = new CallerContext();
        await context.Run(async () => await connection.GetDatabase().PingAsync().ConfigureAwait(true));
        Assert.True(context.Posts > 0);
    }

    private static ServiceProvider Services(IConnectionMultiplexer connection, string prefix, bool jwt = false, bool useRedis = true, Func<TokenValidatedContext, Task>? appValidated = null)
    {
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddSingleton(connection);
        services.AddHardeningTokenReplayGuard(o =>
        {
            o.UseRedis = useRedis;
            o.KeyPrefix = prefix;
        });
        if (jwt)
        {
            services.AddAuthentication()
                .AddJwtBearer(o =>
                {
                    o.TokenValidationParameters = new TokenValidationParameters { ValidIssuer = "https://issuer.test", ValidAudience = "ats-api", IssuerSigningKey = Key };
                    if (appValidated is not null)
                    {
                        o.Events = new JwtBearerEvents { OnTokenValidated = appValidated };
                    }
                })
                .AddJwtBearerHardening(configure: o => o.RequireSingleUse = true);
        }

        return services.BuildServiceProvider();
    }

    private static IHostedService Warmup(IServiceProvider services) =>
        Assert.Single(services.GetServices<IHostedService>(), s => s.GetType().Name == "ReplayStoreWarmup");

    private static TokenValidatedContext Validated(IServiceProvider services, JsonWebToken token)
    {
        var options = services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        var http = new DefaultHttpContext { RequestServices = services };
        return new TokenValidatedContext(http, new AuthenticationScheme(JwtBearerDefaults.AuthenticationScheme, null, typeof(JwtBearerHandler)), options)
        {
            SecurityToken = token,
            Principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "candidate-42")], "test")),
        };
    }

    private static JsonWebToken Token(string jti) => new(new JsonWebTokenHandler().CreateToken(Descriptor(jti)));

    private static SecurityTokenDescriptor Descriptor(string jti)
    {
        var now = DateTime.UtcNow;
        return new SecurityTokenDescriptor
        {
            Issuer = "https://issuer.test",
            Audience = "ats-api",
            Claims = new Dictionary<string, object> { ["sub"] = "candidate-42", ["jti"] = jti },
            NotBefore = now.AddMinutes(-1),
            IssuedAt = now,
            Expires = now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        };
    }
}
