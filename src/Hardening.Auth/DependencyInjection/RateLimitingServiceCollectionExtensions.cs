using Hardening.Auth;
using System.Threading.RateLimiting;
using Hardening.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.AspNetCore.RateLimiting;

/// <summary>Adds Hardening.Auth's Redis-backed, cross-instance rate-limiting policies to ASP.NET Core rate limiting.</summary>
public static class RedisRateLimiterOptionsExtensions
{
    /// <summary>
    /// Adds the named policy <paramref name="policyName"/>: a GCRA limiter (a bucket of
    /// <see cref="RedisRateLimiterOptions.PermitLimit"/> that refills one permit every Window / PermitLimit) per partition,
    /// whose state lives in Redis on the app's <c>IConnectionMultiplexer</c>, so every instance shares one budget. Use it
    /// with <c>RequireRateLimiting(policyName)</c> or <c>[EnableRateLimiting(policyName)]</c>; it never touches
    /// <see cref="RateLimiterOptions.GlobalLimiter"/>. Refusals answer 429 with <c>Retry-After</c>, and every response of
    /// the policy carries <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c> and <c>RateLimit-Reset</c>. A request
    /// without a partition key (for the default key: no client address) is refused rather than counted in a bucket
    /// shared by every such request.
    /// </summary>
    /// <param name="options">ASP.NET Core's rate limiter options.</param>
    /// <param name="policyName">The policy name, also part of the Redis keys.</param>
    /// <param name="configure">Sets the limits and the partition key.</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <example>
    /// <code>
    /// builder.Services.AddSingleton&lt;IConnectionMultiplexer&gt;(ConnectionMultiplexer.Connect(redisOptions));
    /// builder.Services.AddRateLimiter(o => o.AddRedisGcraLimiter("per-user", p =>
    /// {
    ///     p.PermitLimit = 60;
    ///     p.Window = TimeSpan.FromMinutes(1);
    ///     p.PartitionKey = http => http.User.FindFirst("sub")?.Value;
    /// }));
    /// app.UseRateLimiter();
    /// app.MapPost("/api/candidates", Create).RequireRateLimiting("per-user");
    /// </code>
    /// </example>
    public static RateLimiterOptions AddRedisGcraLimiter(this RateLimiterOptions options, string policyName, Action<RedisRateLimiterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(policyName);
        ArgumentNullException.ThrowIfNull(configure);
        if (policyName.AsSpan().IndexOfAny("{} \r\n") >= 0)
        {
            throw new ArgumentException($"Rate limiting policy name '{policyName}' is part of the Redis keys; use one without spaces or braces, e.g. 'per-user'.", nameof(policyName));
        }

        var mine = new RedisRateLimiterOptions();
        configure(mine);
        var problem = mine.Problems().FirstOrDefault();
        if (problem is not null)
        {
            throw new ArgumentException($"Rate limiting policy '{policyName}': {problem}", nameof(configure));
        }

        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        RedisGcraPolicy? shared = null;
        options.AddPolicy(policyName, context =>
        {
            var policy = Volatile.Read(ref shared) ?? Interlocked.CompareExchange(ref shared, Create(context.RequestServices, policyName, mine), null) ?? shared!;
            var partition = mine.PartitionKey(context);
            RedisGcraPolicy.Current.Value = context;
            return string.IsNullOrEmpty(partition)
                ? RateLimitPartition.Get("", static _ => (RateLimiter)NoPartitionLimiter.Instance)
                : RateLimitPartition.Get(partition, p =>
                {
                    var (keys, args) = policy.Limits(p, context.Connection.RemoteIpAddress);
                    return new RedisGcraRateLimiter(policy, keys, args);
                });
        });
        return options;
    }

    private static RedisGcraPolicy Create(IServiceProvider services, string policyName, RedisRateLimiterOptions options) =>
        new(policyName, options,
            RedisMultiplexers.Resolve(services, options.RedisServiceKey, $"Rate limiting policy '{policyName}'"),
            (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger("Hardening.Auth.RateLimiting"));
}
