using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hardening.Drills.Load;
using Hardening.Drills.Topology;

namespace Hardening.Drills.Tests;

public sealed class TopologyTests
{
    [Fact]
    public async Task Two_instances_behind_HAProxy_serve_through_PgBouncer_and_are_removed_on_dispose()
    {
        int[] pids;
        await using (var topology = await DrillTopology.StartAsync(new TopologyOptions { Instances = 2 }, TextWriter.Null))
        {
            using var api = new AtsApi(topology.BaseAddress);
            var user = await api.NewTenantAsync("topology", CancellationToken.None);
            using (var create = AtsApi.Request(HttpMethod.Post, "/api/candidates", user, new { name = "Ada" }))
            {
                create.Headers.Add("Idempotency-Key", "k1");
                using var r = await api.Http.SendAsync(create);
                Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            }

            // Round robin: both instances answer (each one reports the candidate, whose row PgBouncer's pool serves).
            for (var i = 0; i < 4; i++)
            {
                using var list = AtsApi.Request(HttpMethod.Get, "/api/candidates", user);
                using var r = await api.Http.SendAsync(list);
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                var items = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items");
                Assert.Equal(1, items.GetArrayLength());
            }

            var status = await topology.HaProxy.ServerStatusAsync();
            Assert.Equal(["UP", "UP"], status.OrderBy(s => s.Key).Select(s => s.Value));
            var pools = await topology.PgBouncer.AdminAsync("SHOW POOLS");
            Assert.Contains(pools, p => p["database"] == topology.Database && p["pool_mode"] == "transaction");
            pids = [.. topology.Instances.Select(i => i.Process.ProcessId!.Value), topology.HaProxy.Process.ProcessId!.Value, topology.PgBouncer.Process.ProcessId!.Value];
        }

        foreach (var pid in pids)
        {
            Assert.False(IsAlive(pid), $"process {pid} outlived the topology");
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
