using System.Globalization;

namespace Hardening.Testing;

/// <summary>
/// A throwaway local Redis Cluster: three masters with one replica each, from the apt <c>redis-server</c>
/// (<c>--cluster-enabled yes</c>, then <c>redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes</c>), on free
/// loopback ports, removed on dispose or when the test process dies. <see cref="Shared"/> is started once per test
/// process; tests that kill nodes start their own with <see cref="StartAsync"/>.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private static readonly Lazy<Task<RedisCluster>> SharedCluster = new(StartSharedAsync);

    private RedisCluster(RedisServer[] nodes) => Nodes = nodes;

    /// <summary>The cluster shared by every test of this process.</summary>
    public static Task<RedisCluster> Shared => SharedCluster.Value;

    /// <summary>The six nodes, in creation order (redis-cli makes the first three masters).</summary>
    public IReadOnlyList<RedisServer> Nodes { get; }

    /// <summary>Every node as <c>host:port</c>, comma separated: a StackExchange.Redis configuration string.</summary>
    public string ConnectionString => string.Join(",", Nodes.Select(n => n.ConnectionString));

    /// <summary>Starts a new cluster and waits until every node reports <c>cluster_state:ok</c>.</summary>
    public static async Task<RedisCluster> StartAsync()
    {
        var args = new[] { "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0" };
        var nodes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => RedisServer.StartAsync(args)));
        var cluster = new RedisCluster(nodes);
        try
        {
            var create = new List<string> { "--cluster", "create" };
            create.AddRange(nodes.Select(n => n.ConnectionString));
            create.AddRange(["--cluster-replicas", "1", "--cluster-yes"]);
            var result = await ProcessRunner.RunAsync(ServerBinaries.Redis("redis-cli"), create, TimeSpan.FromSeconds(60));
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create failed ({result.ExitCode}): {(result.StdOut + result.StdErr)}");
            }

            await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));
            await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>redis-cli -p port args...</c> against one node and returns its output.</summary>
    public static async Task<string> CliAsync(RedisServer node, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(node);
        var all = new List<string> { "-h", node.Host, "-p", node.Port.ToString(CultureInfo.InvariantCulture) };
        all.AddRange(args);
        var result = await ProcessRunner.RunAsync(ServerBinaries.Redis("redis-cli"), all, TimeSpan.FromSeconds(30));
        return result.StdOut.Trim();
    }

    /// <summary>The node that currently serves <paramref name="key"/> as master (asks the cluster, not the client).</summary>
    public async Task<RedisServer> MasterOfAsync(string key)
    {
        // Any live node computes the slot (the first one may be the master a fault test killed).
        var slot = int.Parse(await CliAsync(Nodes.First(n => n.ProcessId is not null), "CLUSTER", "KEYSLOT", key), CultureInfo.InvariantCulture);
        foreach (var node in Nodes)
        {
            if (node.ProcessId is null)
            {
                continue;
            }

            var info = await CliAsync(node, "CLUSTER", "NODES");
            foreach (var line in info.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                if (!parts[2].Contains("myself", StringComparison.Ordinal) || !parts[2].Contains("master", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var range in parts.Skip(8))
                {
                    var bounds = range.Split('-');
                    if (bounds[0].StartsWith('['))
                    {
                        continue;
                    }

                    var lo = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                    var hi = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : lo;
                    if (slot >= lo && slot <= hi)
                    {
                        return node;
                    }
                }
            }
        }

        throw new InvalidOperationException($"No live master serves slot {slot} of key '{key}'.");
    }

    /// <summary>Waits until every live node reports <c>cluster_state:ok</c> and sees every slot served.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var ok = true;
            foreach (var node in Nodes.Where(n => n.ProcessId is not null))
            {
                var info = await CliAsync(node, "CLUSTER", "INFO");
                ok &= info.Contains("cluster_state:ok", StringComparison.Ordinal) && info.Contains("cluster_slots_ok:16384", StringComparison.Ordinal);
            }

            if (ok)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The local Redis cluster did not become healthy within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits until every replica's link to its master is up (a fresh cluster syncs its replicas first).</summary>
    public async Task WaitForReplicationAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var up = 0;
            foreach (var node in Nodes.Where(n => n.ProcessId is not null))
            {
                var info = await CliAsync(node, "INFO", "replication");
                if (info.Contains("role:slave", StringComparison.Ordinal) && info.Contains("master_link_status:up", StringComparison.Ordinal)
                    && !info.Contains("master_sync_in_progress:1", StringComparison.Ordinal))
                {
                    up++;
                }
            }

            if (up >= 3)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The local Redis cluster's replicas did not sync within {timeout.TotalSeconds:0} s ({up} of 3 up).");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Stops every node and deletes their directories.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }

    private static async Task<RedisCluster> StartSharedAsync()
    {
        var cluster = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return cluster;
    }
}
