using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hardening.Shared;

/// <summary>
/// Resolves the app's own <see cref="IConnectionMultiplexer"/> from DI (shared source, compiled into each package that
/// uses Redis). A package never opens a connection itself.
/// </summary>
internal static class RedisMultiplexers
{
    /// <summary>The app's multiplexer: the keyed registration <paramref name="serviceKey"/>, or the unkeyed one when null.</summary>
    /// <param name="services">The app's service provider.</param>
    /// <param name="serviceKey">The DI service key, or null for the default registration.</param>
    /// <param name="owner">What needs it, for the error message (e.g. <c>TokenReplayGuardOptions.UseRedis</c>).</param>
    public static IConnectionMultiplexer Resolve(IServiceProvider services, object? serviceKey, string owner)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (serviceKey is null)
        {
            return services.GetService<IConnectionMultiplexer>()
                ?? services.GetService<ConnectionMultiplexer>()
                ?? throw new InvalidOperationException(
                    $"{owner} needs the app's Redis connection, but no IConnectionMultiplexer is registered. Register it once, e.g. " +
                    "services.AddSingleton<IConnectionMultiplexer>(ConnectionMultiplexer.Connect(options)), with the settings the package README recommends.");
        }

        return services.GetKeyedService<IConnectionMultiplexer>(serviceKey)
            ?? services.GetKeyedService<ConnectionMultiplexer>(serviceKey)
            ?? throw new InvalidOperationException(
                $"{owner} asks for the IConnectionMultiplexer registered with service key '{serviceKey}', but none is. Register it with " +
                $"services.AddKeyedSingleton<IConnectionMultiplexer>(\"{serviceKey}\", ...) or clear the RedisServiceKey option to use the unkeyed one.");
    }
}
