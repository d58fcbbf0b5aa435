using Hardening.Auth;
using Hardening.Auth.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis-backed, cross-instance rate limiter of Hardening.Auth.</summary>
public static class RateLimitingServiceCollectionExtensions
{
    /// <summary>
    /// Installs a Redis-backed GCRA limiter as the global limiter of ASP.NET Core's rate limiting middleware
    /// (<c>AddRateLimiter</c>): refusals answer 429 with <c>Retry-After</c>, and every limited response carries
    /// <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c> and <c>RateLimit-Reset</c>. Add <c>app.UseRateLimiter()</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="RedisRateLimiterOptions.RedisConnectionString"/> is required.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningRedisRateLimiter(o =>
    /// {
    ///     o.RedisConnectionString = builder.Configuration["Redis"];
    ///     o.PermitLimit = 60;
    ///     o.Window = TimeSpan.FromMinutes(1);
    /// });
    /// app.UseRateLimiter();
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningRedisRateLimiter(this IServiceCollection services, Action<RedisRateLimiterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        TokenServiceCollectionExtensions.AddCommon(services);
        services.AddOptions<RedisRateLimiterOptions>().Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.RedisConnectionString), "RedisRateLimiterOptions.RedisConnectionString is required (host:port); this limiter keeps its state in Redis.")
            .Validate(o => o.PermitLimit >= 1, "RedisRateLimiterOptions.PermitLimit must be at least 1.")
            .Validate(o => o.Window >= TimeSpan.FromMilliseconds(1), "RedisRateLimiterOptions.Window must be at least 1 ms.")
            .Validate(o => o.PartitionKey is not null, "RedisRateLimiterOptions.PartitionKey must not be null.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.KeyPrefix), "RedisRateLimiterOptions.KeyPrefix must not be empty.")
            .ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RedisRateLimiterOptions>, AuthRedisConnections, ILoggerFactory>((limiter, mine, connections, loggers) =>
        {
            var options = mine.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = new RedisGcraRateLimiter(connections.Get(options.RedisConnectionString!), options, loggers.CreateLogger("Hardening.Auth.RateLimiting"));
        });
        return services;
    }
}
