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
        services.AddSingleOptionsInstance<LoginThrottleOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LoginThrottleOptions>, LoginThrottleOptionsValidator>());

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
}
