using Hardening.Shared;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hardening.Observability;

/// <summary>
/// <c>PING</c> on every primary of the app's <see cref="IConnectionMultiplexer"/>, and the settings that decide whether
/// Redis can forget what the packages store: an eviction policy that may drop keys with a TTL is Unhealthy (single use
/// would break), no persistence is Degraded (the packages detect the loss and fail closed, at the cost of sign-ins).
/// </summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis, IOptions<HardeningObservabilityOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var timeout = options.Value.Readiness.RedisTimeout;
        var data = new Dictionary<string, object>();
        try
        {
            var primaries = redis.GetServers().Where(s => !s.IsReplica).ToList();
            if (primaries.Count == 0 || !redis.IsConnected)
            {
                return HealthCheckResult.Unhealthy("Redis is not connected.", data: data);
            }

            foreach (var server in primaries)
            {
                var rtt = await server.PingAsync().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                data[$"round_trip_ms {server.EndPoint}"] = Math.Round(rtt.TotalMilliseconds, 3);
            }

            var findings = await RedisSafety.CheckAsync(redis).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            foreach (var f in findings)
            {
                data[$"{(f.Unsafe ? "unsafe" : "weak")} {f.Server}"] = f.Message;
            }

            if (findings.Any(f => f.Unsafe))
            {
                return HealthCheckResult.Unhealthy("Redis answered PING, but a setting lets it forget consumed single-use tokens: " + string.Join(" ", findings.Where(f => f.Unsafe).Select(f => f.Message)), data: data);
            }

            return findings.Count > 0
                ? HealthCheckResult.Degraded("Redis answered PING; " + string.Join(" ", findings.Select(f => f.Message)), data: data)
                : HealthCheckResult.Healthy("Redis answered PING.", data);
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Redis did not answer PING within {timeout.TotalMilliseconds:0} ms.", data: data);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            return HealthCheckResult.Unhealthy("Redis is unreachable or refused PING.", ex, data);
        }
    }
}
