using Hardening.Shared;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Hardening.Sse;

/// <summary>
/// Readiness of the event store and backplane: on Redis, <c>PING</c> on every primary within
/// <see cref="SseOptions.StoreTimeout"/>, the subscriber connection (without it, events published on other instances do
/// not reach this one) and the settings that let Redis drop the replay log; the in-process store is always ready.
/// </summary>
internal sealed class SseStoreHealthCheck(ISseStore store, SseOptions options) : IHealthCheck
{
    private const string What = "The SSE event store";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (store is not RedisSseStore redis)
        {
            return HealthCheckResult.Healthy($"{What} is in-process (one instance only).", new Dictionary<string, object> { ["store"] = "memory" });
        }

        var data = new Dictionary<string, object> { ["store"] = "redis" };
        var result = await RedisSafety.CheckHealthAsync(redis.Multiplexer, options.StoreTimeout, What, data, cancellationToken).ConfigureAwait(false);
        bool subscriberConnected;
        try
        {
            subscriberConnected = redis.Multiplexer.GetSubscriber().IsConnected();
        }
        catch (ObjectDisposedException)
        {
            subscriberConnected = false;
        }

        data["backplane_connected"] = subscriberConnected;
        return result.Status != HealthStatus.Unhealthy && !subscriberConnected
            ? HealthCheckResult.Unhealthy($"{What}: the Redis backplane (subscriber connection) is disconnected: events published on other instances do not reach this one.", data: data)
            : result;
    }
}
