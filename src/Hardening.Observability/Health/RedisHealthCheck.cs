using Hardening.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Hardening.Observability.Health;

/// <summary><c>PING</c> on the app's shared <see cref="RedisConnection"/>.</summary>
internal sealed class RedisHealthCheck(RedisConnection connection, IOptions<HardeningObservabilityOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var timeout = options.Value.Readiness.RedisTimeout;
        var data = new Dictionary<string, object>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var rtt = await connection.PingAsync(cts.Token).ConfigureAwait(false);
            data["round_trip_ms"] = Math.Round(rtt.TotalMilliseconds, 3);
            data["state"] = connection.State.ToString(); // after the PING: a first check would otherwise report Connecting
            return HealthCheckResult.Healthy("Redis answered PING.", data);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            data["state"] = connection.State.ToString();
            return HealthCheckResult.Unhealthy($"Redis did not answer PING within {timeout.TotalMilliseconds:0} ms.", data: data);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or System.Net.Sockets.SocketException or IOException)
        {
            data["state"] = connection.State.ToString();
            return HealthCheckResult.Unhealthy("Redis is unreachable or refused PING.", ex, data);
        }
    }
}
