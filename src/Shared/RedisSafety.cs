using System.Globalization;
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
}
