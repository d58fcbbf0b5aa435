using System.Collections.Concurrent;
using Hardening.Redis;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth;

/// <summary>One shared <see cref="RedisConnection"/> per connection string for the Auth features of one app.</summary>
internal sealed class AuthRedisConnections(ILoggerFactory loggerFactory) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<RedisConnection>> _connections = new(StringComparer.Ordinal);

    public RedisConnection Get(string connectionString) =>
        _connections.GetOrAdd(connectionString, cs => new Lazy<RedisConnection>(() => RedisConnection.Create(RedisConnectionOptions.Parse(cs), loggerFactory))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _connections.Values)
        {
            if (lazy.IsValueCreated)
            {
                await lazy.Value.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
