using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Hardening.Shared;

/// <summary>
/// Reads the settings of every primary behind a multiplexer that decide whether Redis can forget what the packages
/// store (consumed jtis, SSE logs, throttle counters), and says which are unsafe and why (shared source).
/// </summary>
internal static class RedisSafety
{
    /// <summary>One finding: the server, whether it breaks a guarantee (<c>Unsafe</c>) or only weakens one, and why.</summary>
    internal readonly record struct Finding(string Server, bool Unsafe, string Message);

    private const string InfoScript = "return redis.call('INFO', 'memory') .. '\\n' .. redis.call('INFO', 'persistence')";

    /// <summary>Checks every connected primary; servers that cannot be asked are skipped (the PING check reports those).</summary>
    public static async Task<IReadOnlyList<Finding>> CheckAsync(IConnectionMultiplexer redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var findings = new List<Finding>();
        foreach (var server in redis.GetServers())
        {
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            var name = server.EndPoint.ToString() ?? "redis";

            // INFO through a script: plain INFO and CONFIG need the multiplexer's admin mode, which apps rarely enable.
            var text = (string?)await server.ExecuteAsync("EVAL", InfoScript, 0).ConfigureAwait(false) ?? "";
            var values = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            var policy = values.GetValueOrDefault("maxmemory_policy", "noeviction");
            var maxMemory = long.TryParse(values.GetValueOrDefault("maxmemory", "0"), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
            if (maxMemory > 0 && !string.Equals(policy, "noeviction", StringComparison.Ordinal))
            {
                findings.Add(new Finding(name, true,
                    $"maxmemory-policy is '{policy}' with maxmemory {maxMemory}: Redis may evict keys with a TTL (consumed jtis, SSE logs, throttle counters), so a captured single-use token could work again. Use 'noeviction' (writes then fail and the packages fail closed)."));
            }

            if (values.GetValueOrDefault("aof_enabled", "0") != "1")
            {
                findings.Add(new Finding(name, false,
                    "appendonly is off: a restart either comes back empty (the replay guard notices and refuses tokens issued before it; SSE readers get a reset) or from an older RDB snapshot, which forgets the jtis consumed after it without anything noticing. Turn on appendonly."));
            }
        }

        return findings;
    }

    /// <summary>
    /// The primaries that serve data: on a cluster, those the cluster's slot map gives slots to (a master that died
    /// and was failed over keeps its endpoint in the multiplexer but serves nothing, and must not make the store look
    /// down while a replica serves its slots); on one server (or primary/replica), every primary.
    /// </summary>
    internal static List<IServer> ServingPrimaries(IConnectionMultiplexer redis)
    {
        var servers = redis.GetServers();
        var primaries = servers.Where(s => !s.IsReplica).ToList();
        var map = servers.FirstOrDefault(s => s.IsConnected && s.ServerType == ServerType.Cluster)?.ClusterConfiguration;
        if (map is null)
        {
            return primaries;
        }

        var owners = map.Nodes.Where(n => !n.IsReplica && n.Slots.Count > 0 && n.EndPoint is not null)
            .Select(n => n.EndPoint!.ToString()).ToHashSet(StringComparer.Ordinal);
        return primaries.Where(s => owners.Contains(s.EndPoint.ToString()!)).ToList();
    }

    /// <summary>
    /// The readiness of a Redis-backed store: <c>PING</c> on every primary that serves slots within <paramref name="timeout"/>, then
    /// <see cref="CheckAsync"/>. An eviction policy that may drop keys with a TTL is Unhealthy (a guarantee breaks), no
    /// persistence is Degraded (the packages detect the loss and fail closed, at a cost).
    /// </summary>
    /// <param name="redis">The store's multiplexer.</param>
    /// <param name="timeout">How long PING and the settings check may take.</param>
    /// <param name="store">What is checked, for the messages (e.g. <c>The token replay store</c>).</param>
    /// <param name="data">Filled with round trips and findings; extra entries the caller adds are kept.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    public static async Task<HealthCheckResult> CheckHealthAsync(IConnectionMultiplexer redis, TimeSpan timeout, string store, Dictionary<string, object> data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(redis);
        try
        {
            var primaries = ServingPrimaries(redis);
            if (primaries.Count == 0 || !redis.IsConnected)
            {
                return HealthCheckResult.Unhealthy($"{store}: Redis is not connected.", data: data);
            }

            foreach (var server in primaries)
            {
                var rtt = await server.PingAsync().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                data[$"round_trip_ms {server.EndPoint}"] = Math.Round(rtt.TotalMilliseconds, 3);
            }

            var findings = await CheckAsync(redis).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            foreach (var f in findings)
            {
                data[$"{(f.Unsafe ? "unsafe" : "weak")} {f.Server}"] = f.Message;
            }

            if (findings.Any(f => f.Unsafe))
            {
                return HealthCheckResult.Unhealthy($"{store}: Redis answered PING, but a setting lets it forget what the store keeps: " + string.Join(" ", findings.Where(f => f.Unsafe).Select(f => f.Message)), data: data);
            }

            return findings.Count > 0
                ? HealthCheckResult.Degraded($"{store}: Redis answered PING; " + string.Join(" ", findings.Select(f => f.Message)), data: data)
                : HealthCheckResult.Healthy($"{store}: Redis answered PING.", data);
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{store}: Redis did not answer PING within {timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms.", data: data);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            return HealthCheckResult.Unhealthy($"{store}: Redis is unreachable or refused PING.", ex, data);
        }
    }
}
