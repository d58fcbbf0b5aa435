using Hardening.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the shared <see cref="RedisConnection"/>.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="RedisConnection"/> singleton for the connection string (StackExchange.Redis format).
    /// The string is parsed now, so a bad option fails at start-up; the connection connects in the background on
    /// first resolution. A second call does not replace an existing registration.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">E.g. <c>localhost:6379,password=...,name=ats</c>.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentException">The connection string is invalid; the message names the option.</exception>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningRedis(builder.Configuration.GetConnectionString("redis")!);
    /// // later: app.Services.GetRequiredService&lt;RedisConnection&gt;()
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningRedis(this IServiceCollection services, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(services);
        var parsed = RedisConnectionOptions.Parse(connectionString);
        return services.AddHardeningRedis(options => parsed.CopyTo(options));
    }

    /// <summary>
    /// Registers one <see cref="RedisConnection"/> singleton configured in code; the options are validated at start-up.
    /// If a <see cref="RedisConnection"/> is already registered, this does nothing (the first registration wins).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options, e.g. <c>o =&gt; o.Endpoints.Add(new("localhost", 6379))</c>.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddHardeningRedis(this IServiceCollection services, Action<RedisConnectionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(RedisConnection)))
        {
            // Several packages may each call AddHardeningRedis: the first registration wins.
            return services;
        }

        services.AddOptions<RedisConnectionOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisConnectionOptions>, RedisOptionsValidator>());
        services.TryAddSingleton(sp => RedisConnection.Create(
            sp.GetRequiredService<IOptions<RedisConnectionOptions>>().Value,
            sp.GetService<ILoggerFactory>()));
        return services;
    }
}
