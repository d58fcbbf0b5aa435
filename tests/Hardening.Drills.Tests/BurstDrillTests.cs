using Hardening.Drills.Burst;
using Hardening.Drills.Topology;

namespace Hardening.Drills.Tests;

public sealed class BurstDrillTests
{
    private static readonly BurstSettings Quick = BurstSettings.From(DrillArguments.Parse(["burst", "--quick"]));

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Quick_burst_stores_every_acknowledged_item_once_and_drains_the_queue(int instances)
    {
        await using var topology = await DrillTopology.StartAsync(new TopologyOptions { Instances = instances }, TextWriter.Null);
        var outcome = await BurstDrill.RunAsync(topology, Quick, TextWriter.Null, CancellationToken.None);
        Assert.Empty(outcome.Result.Violations);
        Assert.NotEmpty(outcome.Ledger.Creates);
        Assert.NotEmpty(outcome.Uploads);
        Assert.All((IEnumerable<double?>)outcome.Result.Figures["queue_depth_after"]!, d => Assert.Equal(0, d));
        Assert.Equal(instances, ((IEnumerable<double?>)outcome.Result.Figures["queue_depth_after"]!).Count());

        if (instances == 1)
        {
            // Planted: an acknowledged upload that is not in the database, and one stored for another candidate.
            var real = outcome.Uploads.First();
            var lost = real with { Job = Guid.NewGuid() };
            var moved = real with { Candidate = Guid.NewGuid() };
            var violations = await BurstDrill.VerifyUploadsAsync(topology.OwnerConnectionString, [lost, moved], CancellationToken.None);
            Assert.Contains(violations, v => v.StartsWith("lost:", StringComparison.Ordinal) && v.Contains(lost.Job.ToString(), StringComparison.Ordinal));
            Assert.Contains(violations, v => v.StartsWith("crossed:", StringComparison.Ordinal) && v.Contains(moved.Candidate.ToString(), StringComparison.Ordinal));
        }
    }
}
