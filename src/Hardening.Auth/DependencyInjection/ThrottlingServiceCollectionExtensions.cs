using Hardening.Auth;
using Hardening.Shared;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the login throttle of Hardening.Auth.</summary>
public static class ThrottlingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="LoginThrottle"/> and <see cref="PasswordLogin"/> (which also needs
    /// <c>AddHardeningPasswordHasher</c>) as singletons. Options are validated at start-up.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the limits and the store; without <see cref="LoginThrottleOptions.UseRedis"/> the counters are in-process.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningLoginThrottle(o =>
    /// {
    ///     o.UseRedis = true; // the app's IConnectionMultiplexer
    ///     o.AccountAndIp.Threshold = 5;
    /// });
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningLoginThrottle(this IServiceCollection services, Action<LoginThrottleOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        TokenServiceCollectionExtensions.AddCommon(services);
        var builder = services.AddOptions<LoginThrottleOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.Validate(o => o.AccountAndIp is not null && o.Account is not null && o.Ip is not null, "LoginThrottleOptions.AccountAndIp, Account and Ip must not be null (set Threshold = 0 to turn a limit off).")
            .Validate(o => Problem(o) is null, "LoginThrottleOptions: a limit is invalid; each needs Threshold >= 0 and, when on, Window > 0 and 0 < Lockout <= MaxLockout (whole milliseconds).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.KeyPrefix) && o.KeyPrefix.AsSpan().IndexOfAny("{} \r\n") < 0, "LoginThrottleOptions.KeyPrefix must be non-empty without spaces or braces (the Redis store adds its own hash tag), e.g. 'hardening:login:'.")
            .Validate(o => o.MaxInMemoryEntries >= 3, "LoginThrottleOptions.MaxInMemoryEntries must be at least 3.")
            .Validate(o => o.StoreTimeout > TimeSpan.Zero && o.StoreTimeout <= TimeSpan.FromMinutes(1), "LoginThrottleOptions.StoreTimeout must be more than 0 and at most 1 minute (default 2 seconds).")
            .Validate(o => o.NetworkProblem() is null, "LoginThrottleOptions.Ipv6NetworkLimits or MissingClientAddress is invalid: prefix lengths 16-63, each limit with Threshold >= 0 and, when on, Window > 0 and 0 < Lockout <= MaxLockout; MissingClientAddress Refuse or AccountOnly.")
            .Validate(o => o.UseRedis || o.RedisServiceKey is null, "LoginThrottleOptions.RedisServiceKey applies to the Redis store only; set UseRedis = true.")
            .ValidateOnStart();

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LoginThrottleOptions>>().Value;
            var time = sp.GetService<TimeProvider>() ?? TimeProvider.System;
            ILoginThrottleStore store = options.UseRedis
                ? new RedisLoginThrottleStore(RedisMultiplexers.Resolve(sp, options.RedisServiceKey, "LoginThrottleOptions.UseRedis"), options.KeyPrefix, options.StoreTimeout, time)
                : new InMemoryLoginThrottleStore(options.MaxInMemoryEntries, time);
            return new LoginThrottle(store, options, sp.GetRequiredService<AuthMetrics>(), sp.GetRequiredService<ILogger<LoginThrottle>>());
        });
        services.TryAddSingleton(sp =>
        {
            var hasher = sp.GetService<PasswordHasher>() ?? throw new InvalidOperationException(
                "PasswordLogin verifies passwords with Hardening.Auth's PasswordHasher, which is not registered. Call services.AddHardeningPasswordHasher(...).");
            return new PasswordLogin(sp.GetRequiredService<LoginThrottle>(), new PasswordHasherVerifier(hasher), sp.GetRequiredService<AuthMetrics>(), sp.GetRequiredService<ILogger<PasswordLogin>>());
        });
        return services;
    }

    private static string? Problem(LoginThrottleOptions o)
    {
        foreach (var (name, limit) in new[] { ("AccountAndIp", o.AccountAndIp), ("Account", o.Account), ("Ip", o.Ip) })
        {
            if (limit is null || limit.Threshold < 0)
            {
                return name;
            }

            if (limit.Threshold > 0 && (limit.Window <= TimeSpan.Zero || limit.Lockout <= TimeSpan.Zero || limit.MaxLockout < limit.Lockout))
            {
                return name;
            }
        }

        return null;
    }
}
