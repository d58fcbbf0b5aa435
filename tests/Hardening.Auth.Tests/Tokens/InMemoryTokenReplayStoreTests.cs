using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;

namespace Hardening.Auth.Tests.Tokens;

public sealed class InMemoryTokenReplayStoreTests
{
    /// <summary>One step of a random timeline: add key <c>Key</c> retained for <c>Ttl</c> seconds, after <c>Wait</c> seconds.</summary>
    public sealed record Step(int Key, int Ttl, int Wait);

    [Property(MaxTest = 300)]
    public Property Bounded_store_matches_a_model_never_evicts_live_entries_and_fails_closed_when_full()
    {
        var step = from key in Gen.Choose(0, 11) from ttl in Gen.Choose(1, 30) from wait in Gen.Choose(0, 8) select new Step(key, ttl, wait);
        return Prop.ForAll(Gen.Choose(1, 6).ToArbitrary(), step.ListOf().Select(l => l.ToArray()).ToArbitrary(), (max, steps) =>
        {
            var time = new FakeTimeProvider();
            var store = new InMemoryTokenReplayStore(max, time);
            var model = new Dictionary<int, long>();
            foreach (var s in steps)
            {
                time.Advance(TimeSpan.FromSeconds(s.Wait));
                var now = time.GetUtcNow().UtcTicks;
                var until = time.GetUtcNow().AddSeconds(s.Ttl).UtcTicks;
                var live = model.Count(kv => kv.Value > now);
                ReplayStoreResult expected;
                if (model.TryGetValue(s.Key, out var u) && u > now)
                {
                    expected = ReplayStoreResult.Exists;
                }
                else if (live >= max)
                {
                    expected = ReplayStoreResult.Full;
                }
                else
                {
                    expected = ReplayStoreResult.Added;
                    model[s.Key] = until;
                }

                var actual = store.TryAdd(Key(s.Key), until);
                if (actual != expected)
                {
                    return false;
                }

                if (store.Count > max)
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Fact]
    public async Task A_full_store_denies_through_the_guard_with_a_security_event_then_recovers_when_entries_expire()
    {
        using var kit = new AuthTestKit();
        var guard = TokenReplayGuardTests.MemoryGuard(kit, maxEntries: 3);
        var exp = kit.Time.GetUtcNow().AddMinutes(1);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await guard.TryConsumeAsync("iss", $"j{i}", exp));
        }

        Assert.False(await guard.TryConsumeAsync("iss", "j3", exp));
        Assert.Single(kit.Logs.Events("ReplayStoreFull"));
        Assert.Equal(1, kit.Metric("hardening.auth.token.rejected").Sum("reason", "store_unavailable"));

        // The live entries are still there (never evicted)...
        Assert.False(await guard.TryConsumeAsync("iss", "j0", exp));

        // ...and once they have expired (exp + 5 min skew), room is made for new ones.
        kit.Time.Advance(TimeSpan.FromMinutes(6) + TimeSpan.FromSeconds(1));
        Assert.True(await guard.TryConsumeAsync("iss", "j3", kit.Time.GetUtcNow().AddMinutes(1)));
    }

    [Fact]
    public void Steady_state_consume_does_not_allocate()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryTokenReplayStore(10_000, time);
        var keys = Enumerable.Range(0, 1000).Select(i => Key(i)).ToArray();
        var until = time.GetUtcNow().AddSeconds(1).UtcTicks;
        foreach (var k in keys)
        {
            store.TryAdd(k, until);
        }

        time.Advance(TimeSpan.FromSeconds(2));
        until = time.GetUtcNow().AddSeconds(1).UtcTicks;
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var k in keys)
        {
            store.TryAdd(k, until);
            store.TryAdd(k, until);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static ReplayKey Key(int i) => ReplayKey.Compute("iss", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
