using Hardening.Shared;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Auth;

/// <summary>
/// Readiness of the token replay store: on Redis, <c>PING</c> on every primary within
/// <see cref="TokenReplayGuardOptions.StoreTimeout"/> and the settings that let Redis forget consumed ids (an evicting
/// policy is Unhealthy, no persistence Degraded); the in-process store is always ready.
/// </summary>
internal sealed class TokenReplayStoreHealthCheck(TokenReplayGuard guard, TokenReplayGuardOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["store"] = guard.Store.Name };
        return guard.Store is RedisTokenReplayStore redis
            ? RedisSafety.CheckHealthAsync(redis.Multiplexer, options.StoreTimeout, "The token replay store", data, cancellationToken)
            : Task.FromResult(HealthCheckResult.Healthy("The token replay store is in-process (one instance only).", data));
    }
}
