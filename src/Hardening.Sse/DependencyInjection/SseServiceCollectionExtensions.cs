using Hardening.Sse;
using Hardening.Shared;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Hardening.Sse.</summary>
public static class SseServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SsePublisher"/> and the event store: in memory (one instance) unless
    /// <see cref="SseOptions.UseRedis"/> is set, then Redis (many instances) on the app's own <c>IConnectionMultiplexer</c>.
    /// Options are validated at start-up.
    /// Then map endpoints with <c>app.MapServerSentEvents("/events/{**stream}", ...)</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts the options; optional.</param>
    /// <returns>The service collection.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddSingleton&lt;IConnectionMultiplexer&gt;(ConnectionMultiplexer.Connect(redisOptions));
    /// builder.Services.AddHardeningSse(o =&gt;
    /// {
    ///     o.UseRedis = true; // false: single instance, in memory
    ///     o.RetentionCount = 5_000;
    /// });
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningSse(this IServiceCollection services, Action<SseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<SseOptions>();
        services.AddSingleOptionsInstance<SseOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SseOptions>, SseOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SseMetrics>();
        services.TryAddSingleton<ISseStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SseOptions>>();
            var time = sp.GetRequiredService<TimeProvider>();
            return options.Value.UseRedis
                ? new RedisSseStore(options, time, sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance, RedisMultiplexers.Resolve(sp, options.Value.RedisServiceKey, "SseOptions.UseRedis"))
                : new InMemorySseStore(options, time);
        });
        services.TryAddSingleton(sp => new SsePublisher(sp.GetRequiredService<ISseStore>(), sp.GetRequiredService<SseMetrics>(), sp.GetRequiredService<IOptions<SseOptions>>()));
        return services;
    }
}
