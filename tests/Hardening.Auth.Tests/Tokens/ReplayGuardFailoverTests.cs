using System.Diagnostics;
using System.Globalization;
using Hardening.Auth;
using Xunit.Abstractions;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// A master killed (SIGKILL) while consumes of its slot are in flight, on a dedicated local cluster per trial: with
/// <see cref="TokenReplayGuardOptions.WaitForReplicas"/> on, no accepted jti is accepted again after the failover; with
/// it off (the default) the test measures how many are, and how long before the kill they had been acknowledged.
/// </summary>
public sealed class ReplayGuardFailoverTests(ITestOutputHelper output)
{
    private const int Trials = 3;
    private const int Consumers = 16;
    private const string Issuer = "iss";

    [Fact]
    public async Task A_killed_master_loses_no_consumed_jti_with_replica_acknowledgement_and_the_loss_without_it_is_measured()
    {
        var without = new List<Trial>();
        var with = new List<Trial>();
        for (var i = 0; i < Trials; i++)
        {
            without.Add(await RunTrialWithConsumesInFlightAsync(waitForReplicas: 0));
            with.Add(await RunTrialWithConsumesInFlightAsync(waitForReplicas: 1));
        }

        foreach (var (name, trials) in new[] { ("WaitForReplicas = 0", without), ("WaitForReplicas = 1", with) })
        {
            output.WriteLine($"{name}: lost {trials.Sum(t => t.Lost.Count)} of {trials.Sum(t => t.Accepted)} accepted jtis " +
                $"({string.Join(", ", trials.Select(t => $"{t.Lost.Count}/{t.Accepted}"))}); accepted in the last 100 ms before the kill: " +
                $"{string.Join(", ", trials.Select(t => t.AcceptedLast100Ms))}; lost ones acknowledged up to " +
                $"{string.Join(", ", trials.Select(t => t.Lost.Count == 0 ? "-" : t.Lost.Max().TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms"))} before the kill");
        }

        Assert.All(without.Concat(with), t => Assert.True(t.AcceptedLast100Ms > 0, "no consume was in flight at the kill: nothing was tested"));

        // With replica acknowledgement every accepted jti survives the failover.
        Assert.All(with, t => Assert.Empty(t.Lost));
    }

    /// <summary>
    /// A trial in which consumes were acknowledged in the last 100 ms before the kill. On a loaded machine a trial can
    /// stall so that none were; such a trial tested nothing and is run again (at most three times, then it counts).
    /// </summary>
    private async Task<Trial> RunTrialWithConsumesInFlightAsync(int waitForReplicas)
    {
        for (var attempt = 1; ; attempt++)
        {
            var trial = await RunTrialAsync(waitForReplicas);
            if (trial.AcceptedLast100Ms > 0 || attempt == 3)
            {
                return trial;
            }

            output.WriteLine($"WaitForReplicas = {waitForReplicas}: no consume in the last 100 ms before the kill (attempt {attempt}); running the trial again");
        }
    }

    private async Task<Trial> RunTrialAsync(int waitForReplicas)
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var connection = await TestRedis.ConnectAsync(cluster.ConnectionString);
        using var kit = new AuthTestKit();
        var prefix = "fo:";
        var options = new TokenReplayGuardOptions
        {
            UseRedis = true, KeyPrefix = prefix, WaitForReplicas = waitForReplicas, ReplicaWaitTimeout = TimeSpan.FromSeconds(1),
        };
        var guard = new TokenReplayGuard(new RedisTokenReplayStore(connection, options, TimeProvider.System), options, TimeProvider.System, kit.Metrics, kit.Logger<TokenReplayGuard>());
        var issued = DateTimeOffset.UtcNow.AddSeconds(1);
        var exp = issued.AddMinutes(10);

        // Every jti in one key group, so every consume goes to the master that is killed.
        var tag = Tag(ReplayKey.Compute(Issuer, "fo-0").ToRedisKey(prefix));
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync(Issuer, "fo-0", issued, exp)); // lays the group marker
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(30));
        var victim = await cluster.MasterOfAsync(ReplayKey.Compute(Issuer, "fo-0").ToRedisKey(prefix));

        var clock = Stopwatch.StartNew();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, TimeSpan>();
        var next = 0;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, Consumers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var jti = $"fo-{Interlocked.Increment(ref next)}";
                if (Tag(ReplayKey.Compute(Issuer, jti).ToRedisKey(prefix)) == tag
                    && await guard.ConsumeAsync(Issuer, jti, issued, exp) == TokenConsumeResult.Consumed)
                {
                    acknowledged[jti] = clock.Elapsed;
                }
            }
        })).ToArray();

        await Task.Delay(500);
        var killing = clock.Elapsed;
        await victim.StopAsync(); // SIGKILL
        var killed = clock.Elapsed; // the process is gone: nothing acknowledged later came from it
        await Task.Delay(200);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));

        // After the failover: which accepted jtis does the cluster no longer know?
        var lost = new List<TimeSpan>();
        foreach (var (jti, at) in acknowledged)
        {
            TokenConsumeResult r;
            var attempts = 0;
            do
            {
                r = await guard.ConsumeAsync(Issuer, jti, issued, exp);
            }
            while (r == TokenConsumeResult.StoreUnavailable && ++attempts < 50 && await Pause());

            Assert.NotEqual(TokenConsumeResult.StoreUnavailable, r);
            if (r == TokenConsumeResult.Consumed)
            {
                Assert.True(at <= killed, $"{jti} was acknowledged after the master died and lost all the same");
                lost.Add(killing - at);
            }
        }

        return new Trial(acknowledged.Count, acknowledged.Values.Count(at => at <= killing && killing - at <= TimeSpan.FromMilliseconds(100)), lost);
    }

    private static string Tag(string key) => key[(key.IndexOf('{', StringComparison.Ordinal) + 1)..key.IndexOf('}', StringComparison.Ordinal)];

    private static async Task<bool> Pause()
    {
        await Task.Delay(100);
        return true;
    }

    private sealed record Trial(int Accepted, int AcceptedLast100Ms, List<TimeSpan> Lost);
}
