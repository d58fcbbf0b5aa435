using Hardening.Auth;
using Hardening.Shared;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the single-use token guard and the JwtBearer hardening of Hardening.Auth.</summary>
public static class TokenServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TokenReplayGuard"/> (and <see cref="TokenReplayCache"/> for IdentityModel) as singletons.
    /// With <see cref="TokenReplayGuardOptions.UseRedis"/> the guard uses the app's own <c>IConnectionMultiplexer</c> from
    /// DI (or the keyed one named by <see cref="TokenReplayGuardOptions.RedisServiceKey"/>) and prepares its key space at
    /// start-up. Options are validated at start-up.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; without <see cref="TokenReplayGuardOptions.UseRedis"/> the store is in-process.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddSingleton&lt;IConnectionMultiplexer&gt;(ConnectionMultiplexer.Connect(redisOptions));
    /// builder.Services.AddHardeningTokenReplayGuard(o => o.UseRedis = true);
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningTokenReplayGuard(this IServiceCollection services, Action<TokenReplayGuardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddCommon(services);
        var builder = services.AddOptions<TokenReplayGuardOptions>();
        services.AddSingleOptionsInstance<TokenReplayGuardOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenReplayGuardOptions>, TokenReplayGuardOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TokenReplayGuardOptions>>().Value;
            var time = sp.GetService<TimeProvider>() ?? TimeProvider.System;
            ITokenReplayStore store = options.UseRedis
                ? new RedisTokenReplayStore(RedisMultiplexers.Resolve(sp, options.RedisServiceKey, "TokenReplayGuardOptions.UseRedis"), options, time)
                : new InMemoryTokenReplayStore(options.MaxInMemoryEntries, time);
            return new TokenReplayGuard(store, options, time, sp.GetRequiredService<AuthMetrics>(), sp.GetRequiredService<ILogger<TokenReplayGuard>>());
        });
        services.TryAddSingleton(sp => new TokenReplayCache(sp.GetRequiredService<TokenReplayGuard>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ReplayStoreWarmup>());
        return services;
    }

    /// <summary>
    /// Hardens the JwtBearer scheme <paramref name="authenticationScheme"/>: every rejected token is classified
    /// (expired, not_yet_valid, bad_signature, bad_issuer, bad_audience, replayed, malformed, missing_claims,
    /// store_unavailable), logged as a security event and counted; with
    /// <see cref="JwtBearerHardeningOptions.RequireSingleUse"/> each token is also consumed once by (iss, jti).
    /// Call it after <c>AddJwtBearer</c>; the app's own <see cref="JwtBearerEvents"/> handlers keep running.
    /// </summary>
    /// <param name="builder">The authentication builder.</param>
    /// <param name="authenticationScheme">The JwtBearer scheme to harden (default <c>Bearer</c>).</param>
    /// <param name="configure">Sets the options of this scheme.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningTokenReplayGuard(o => o.UseRedis = true);
    /// builder.Services.AddAuthentication()
    ///     .AddJwtBearer("magic-link", o => { /* issuer, audience, keys */ })
    ///     .AddJwtBearerHardening("magic-link", o => o.RequireSingleUse = true);
    /// </code>
    /// </example>
    public static AuthenticationBuilder AddJwtBearerHardening(this AuthenticationBuilder builder, string authenticationScheme = JwtBearerDefaults.AuthenticationScheme, Action<JwtBearerHardeningOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(authenticationScheme);
        AddCommon(builder.Services);
        var options = builder.Services.AddOptions<JwtBearerHardeningOptions>(authenticationScheme);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>>(sp => new JwtBearerHardeningSetup(authenticationScheme, sp));
        return builder;
    }

    internal static void AddCommon(IServiceCollection services)
    {
        services.AddMetrics();
        services.AddLogging();
        services.TryAddSingleton<AuthMetrics>();
    }
}
