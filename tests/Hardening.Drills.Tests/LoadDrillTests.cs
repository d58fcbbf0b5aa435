using Hardening.Drills.Load;
using Hardening.Drills.Topology;

namespace Hardening.Drills.Tests;

public sealed class LoadDrillTests
{
    private static readonly LoadSettings Quick = LoadSettings.From(DrillArguments.Parse(["load", "--quick"]));

    [Fact]
    public async Task Quick_load_on_one_instance_loses_duplicates_and_crosses_nothing_and_planted_violations_are_reported()
    {
        await using var topology = await DrillTopology.StartAsync(new TopologyOptions { Instances = 1 }, TextWriter.Null);
        var outcome = await LoadDrill.RunAsync(topology, Quick, TextWriter.Null, CancellationToken.None);
        AssertDidWorkWithoutViolations(outcome);

        // Planted: an acknowledged write that is not in the database, a row shown to the wrong tenant, a transition
        // acknowledged once more than the audit holds. The verifier must name each.
        var stored = outcome.Ledger.Creates.First();
        var other = outcome.Ledger.Creates.First(c => c.Tenant != stored.Tenant);
        var planted = Guid.NewGuid();
        outcome.Ledger.Created(new AcknowledgedCreate(stored.Tenant, planted, "drill-planted"));
        outcome.Ledger.Seen(other.Tenant, stored.Id);
        outcome.Ledger.Transitioned(stored.Id, "SCREENING");
        var violations = await outcome.Ledger.VerifyAsync(topology.OwnerConnectionString, CancellationToken.None);
        Assert.Contains(violations, v => v.StartsWith("lost:", StringComparison.Ordinal) && v.Contains(planted.ToString(), StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("crossed:", StringComparison.Ordinal) && v.Contains(stored.Id.ToString(), StringComparison.Ordinal) && v.Contains(other.Tenant.ToString(), StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("audit:", StringComparison.Ordinal) && v.Contains(stored.Id.ToString(), StringComparison.Ordinal));

        // Planted in the SSE check: the database says a received event's candidate belongs to another tenant.
        var watcher = outcome.Watchers.First(w => w.Events.Any(e => e.Candidate is not null));
        var received = watcher.Events.First(e => e.Candidate is not null).Candidate!.Value;
        var tenants = await WriteLedger.CandidateTenantsAsync(topology.OwnerConnectionString, CancellationToken.None);
        tenants[received] = Guid.NewGuid();
        var sseViolations = new List<string>();
        LoadDrill.CheckWatchers(outcome.Watchers, new Dictionary<Guid, HashSet<Guid>>(), tenants, sseViolations);
        Assert.Contains(sseViolations, v => v.StartsWith("sse crossed:", StringComparison.Ordinal) && v.Contains(received.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Quick_load_on_three_instances_with_a_Redis_cluster_loses_duplicates_and_crosses_nothing()
    {
        await using var topology = await DrillTopology.StartAsync(new TopologyOptions { Instances = 3, Redis = "cluster" }, TextWriter.Null);
        var outcome = await LoadDrill.RunAsync(topology, Quick, TextWriter.Null, CancellationToken.None);
        AssertDidWorkWithoutViolations(outcome);
    }

    private static void AssertDidWorkWithoutViolations(LoadOutcome outcome)
    {
        Assert.Empty(outcome.Result.Violations);
        Assert.True((long)outcome.Result.Figures["requests"]! > 0);
        Assert.NotEmpty(outcome.Ledger.Creates);
        Assert.True(outcome.Ledger.TransitionCount > 0, "no transition was acknowledged");
        Assert.True(outcome.Ledger.SeenCount > 0, "no list or read returned a row");
        Assert.All(outcome.Watchers, w => Assert.NotNull(w.ConnectedAt));
        Assert.Contains(outcome.Watchers, w => w.Events.Any(e => e.Type == "candidate.created"));
    }
}
