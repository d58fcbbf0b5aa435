using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;

namespace Hardening.Auth.Tests.Throttling;

public sealed class LoginThrottleTests
{
    /// <summary>One attempt of a random timeline, <c>Wait</c> ms after the previous one.</summary>
    public sealed record Attempt(int Account, int Ip, bool Succeeds, int Wait);

    /// <summary>Accounts differ only in case/whitespace from their canonical form; IPs 2 and 3 share one IPv6 /64.</summary>
    internal static readonly string[] Accounts = ["alice", " ALICE", "bob", "carol"];
    internal static readonly string[] CanonicalAccounts = ["alice", "alice", "bob", "carol"];
    internal static readonly IPAddress[] Ips = [IPAddress.Parse("192.0.2.1"), IPAddress.Parse("::ffff:192.0.2.1"), IPAddress.Parse("2001:db8:1:2::1"), IPAddress.Parse("2001:db8:1:2::ffff"), IPAddress.Parse("198.51.100.7")];
    internal static readonly string[] Networks = ["v4a", "v4a", "v6a", "v6a", "v4b"];

    internal static Gen<ReferenceThrottle.Limit[]> LimitsGen =>
        from t1 in Gen.Choose(1, 4)
        from t2 in Gen.Choose(0, 6)
        from t3 in Gen.Choose(0, 8)
        from window in Gen.Choose(1, 20)
        from lockout in Gen.Choose(1, 5)
        from capFactor in Gen.Choose(1, 8)
        select new[] { t1, t2, t3 }.Select(t => new ReferenceThrottle.Limit(t, window * 1000L, lockout * 1000L, lockout * capFactor * 1000L)).ToArray();

    internal static Gen<Attempt[]> TimelineGen(int maxLength) =>
        (from account in Gen.Choose(0, Accounts.Length - 1)
         from ip in Gen.Choose(0, Ips.Length - 1)
         from succeeds in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
         from wait in Gen.Frequency((3, Gen.Choose(0, 500)), (2, Gen.Choose(0, 5000)), (1, Gen.Choose(0, 60_000)))
         select new Attempt(account, ip, succeeds, wait)).ArrayOf().Select(a => a.Take(maxLength).ToArray());

    internal static LoginThrottleOptions Options(ReferenceThrottle.Limit[] limits, string prefix = "t:")
    {
        LoginThrottleLimit L(ReferenceThrottle.Limit l) => new()
        {
            Threshold = l.Threshold,
            Window = TimeSpan.FromMilliseconds(l.Window),
            Lockout = TimeSpan.FromMilliseconds(l.Lockout),
            MaxLockout = TimeSpan.FromMilliseconds(l.Cap),
        };
        return new LoginThrottleOptions { AccountAndIp = L(limits[0]), Account = L(limits[1]), Ip = L(limits[2]), KeyPrefix = prefix };
    }

    /// <summary>Runs a timeline against the throttle and the reference; false at the first differing decision.</summary>
    internal static async Task<bool> MatchesReferenceAsync(LoginThrottle throttle, Func<long> now, Action<long> advance, ReferenceThrottle.Limit[] limits, Attempt[] timeline)
    {
        var model = new ReferenceThrottle();
        foreach (var a in timeline)
        {
            advance(a.Wait);
            var expected = model.Acquire(now(), CanonicalAccounts[a.Account], Networks[a.Ip], limits);
            var actual = await throttle.AcquireAsync(Accounts[a.Account], Ips[a.Ip]);
            var scope = actual.IsAllowed ? -1 : (int)actual.Scope - 1;
            if (actual.IsAllowed != expected.Allowed || (long)actual.RetryAfter.TotalMilliseconds != expected.RetryMs || scope != expected.Scope)
            {
                return false;
            }

            if (actual.IsAllowed && a.Succeeds)
            {
                model.Succeed(CanonicalAccounts[a.Account], Networks[a.Ip]);
                await throttle.ResetAsync(Accounts[a.Account], Ips[a.Ip]);
            }
        }

        return true;
    }

    internal static LoginThrottle Create(Tokens.AuthTestKit kit, LoginThrottleOptions options, ILoginThrottleStore? store = null) =>
        new(store ?? new InMemoryLoginThrottleStore(options.MaxInMemoryEntries, kit.Time), options, kit.Metrics, kit.Logger<LoginThrottle>());

    [Property(MaxTest = 300)]
    public Property Throttle_matches_the_reference_model_on_random_timelines() =>
        Prop.ForAll(LimitsGen.ToArbitrary(), TimelineGen(80).ToArbitrary(), (limits, timeline) =>
        {
            using var kit = new Tokens.AuthTestKit();
            var throttle = Create(kit, Options(limits));
            return MatchesReferenceAsync(throttle, () => kit.Time.GetUtcNow().ToUnixTimeMilliseconds(), ms => kit.Time.Advance(TimeSpan.FromMilliseconds(ms)), limits, timeline).GetAwaiter().GetResult();
        });

    [Property(MaxTest = 100)]
    public Property Concurrent_attempts_cannot_exceed_the_threshold() =>
        Prop.ForAll(Gen.Choose(1, 10).ToArbitrary(), Gen.Choose(2, 64).ToArbitrary(), (threshold, callers) =>
        {
            using var kit = new Tokens.AuthTestKit();
            var throttle = Create(kit, new LoginThrottleOptions { AccountAndIp = new() { Threshold = threshold }, Account = new() { Threshold = 0 }, Ip = new() { Threshold = 0 } });
            var results = Tokens.ConcurrentConsumers.RunAsync(callers, async () => (await throttle.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed).GetAwaiter().GetResult();
            return results.Count(r => r) == Math.Min(threshold, callers);
        });

    [Fact]
    public async Task Lockouts_double_up_to_the_cap_and_carry_retry_after()
    {
        using var kit = new Tokens.AuthTestKit();
        var throttle = Create(kit, new LoginThrottleOptions
        {
            AccountAndIp = new() { Threshold = 3, Window = TimeSpan.FromMinutes(15), Lockout = TimeSpan.FromMinutes(1), MaxLockout = TimeSpan.FromMinutes(3) },
            Account = new() { Threshold = 0 },
            Ip = new() { Threshold = 0 },
        });
        var ip = IPAddress.Parse("192.0.2.10");
        foreach (var expected in new[] { 60, 120, 180, 180 })
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.True((await throttle.AcquireAsync("alice", ip)).IsAllowed);
            }

            var refused = await throttle.AcquireAsync("alice", ip);
            Assert.False(refused.IsAllowed);
            Assert.Equal(LoginThrottleScope.AccountAndIp, refused.Scope);
            Assert.Equal(expected, refused.RetryAfterSeconds);
            kit.Time.Advance(TimeSpan.FromSeconds(expected));
        }

        Assert.Equal(4, kit.Metric("hardening.auth.login.throttled").Sum("scope", "account_ip"));
        Assert.Equal(4, kit.Logs.Events("LoginLockout").Count);
        Assert.Equal(4, kit.Logs.Events("LoginThrottled").Count);
        Assert.All(kit.Logs.GetSnapshot(), r => Assert.DoesNotContain("alice", r.Message, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData(60, 3600, "60 120 240 480 960 1920 3600 3600")]
    [InlineData(45, 100, "45 90 100 100")]
    [InlineData(300, 300, "300 300 300")]
    [InlineData(1, 86400, "1 2 4 8 16 32 64 128 256 512 1024 2048 4096 8192 16384 32768 65536 86400 86400")]
    public async Task Consecutive_lockouts_follow_the_backoff_table(int lockoutSeconds, int capSeconds, string expected)
    {
        using var kit = new Tokens.AuthTestKit();
        var throttle = Create(kit, new LoginThrottleOptions
        {
            AccountAndIp = new() { Threshold = 1, Window = TimeSpan.FromMinutes(15), Lockout = TimeSpan.FromSeconds(lockoutSeconds), MaxLockout = TimeSpan.FromSeconds(capSeconds) },
            Account = new() { Threshold = 0 },
            Ip = new() { Threshold = 0 },
        });
        var ip = IPAddress.Parse("192.0.2.10");
        var lockouts = new List<long>();
        foreach (var _ in expected.Split(' '))
        {
            Assert.True((await throttle.AcquireAsync("alice", ip)).IsAllowed); // admitted, and it starts the next lockout
            var refused = await throttle.AcquireAsync("alice", ip);
            Assert.False(refused.IsAllowed);
            lockouts.Add(refused.RetryAfterSeconds);
            kit.Time.Advance(TimeSpan.FromSeconds(refused.RetryAfterSeconds));
        }

        Assert.Equal(expected, string.Join(' ', lockouts));
    }

    [Fact]
    public async Task Success_resets_the_pair_and_account_but_not_the_ip()
    {
        using var kit = new Tokens.AuthTestKit();
        var throttle = Create(kit, new LoginThrottleOptions { AccountAndIp = new() { Threshold = 3 }, Account = new() { Threshold = 3 }, Ip = new() { Threshold = 5 } });
        var ip = IPAddress.Parse("192.0.2.10");
        Assert.True((await throttle.AcquireAsync("alice", ip)).IsAllowed);
        Assert.True((await throttle.AcquireAsync("alice", ip)).IsAllowed);
        await throttle.ResetAsync("alice", ip);
        Assert.True((await throttle.AcquireAsync("alice", ip)).IsAllowed);
        Assert.True((await throttle.AcquireAsync("alice", ip)).IsAllowed);
        var refused = await throttle.AcquireAsync("mallory", ip);
        Assert.True(refused.IsAllowed); // 5th attempt from this IP reaches the IP threshold: admitted, then locked
        refused = await throttle.AcquireAsync("bob", ip);
        Assert.False(refused.IsAllowed);
        Assert.Equal(LoginThrottleScope.Ip, refused.Scope);
    }

    [Fact]
    public async Task Store_failure_refuses_the_attempt_unless_fail_open()
    {
        using var kit = new Tokens.AuthTestKit();
        var closed = Create(kit, new LoginThrottleOptions(), new FailingStore());
        var decision = await closed.AcquireAsync("alice", IPAddress.Loopback);
        Assert.False(decision.IsAllowed);
        Assert.Equal(LoginThrottleScope.StoreUnavailable, decision.Scope);
        Assert.Single(kit.Logs.Events("ThrottleStoreUnavailable"));

        var open = Create(kit, new LoginThrottleOptions { FailOpen = true }, new FailingStore());
        Assert.True((await open.AcquireAsync("alice", IPAddress.Loopback)).IsAllowed);
        Assert.Single(kit.Logs.Events("ThrottleStoreUnavailableFailOpen"));
    }

    [Fact]
    public async Task A_full_in_memory_store_refuses_rather_than_forgetting_live_counters()
    {
        using var kit = new Tokens.AuthTestKit();
        var options = new LoginThrottleOptions { MaxInMemoryEntries = 4 };
        var throttle = Create(kit, options);
        Assert.True((await throttle.AcquireAsync("a", IPAddress.Loopback)).IsAllowed); // 3 records
        Assert.False((await throttle.AcquireAsync("b", IPAddress.Loopback)).IsAllowed); // needs 2 more
        kit.Time.Advance(TimeSpan.FromHours(3));
        Assert.True((await throttle.AcquireAsync("b", IPAddress.Loopback)).IsAllowed); // old ones expired
    }

    [Fact]
    public void Keys_fold_case_and_group_ipv6_by_64_but_never_contain_the_values()
    {
        Assert.Equal(ThrottleKeys.Account("p:", "Alice"), ThrottleKeys.Account("p:", " alice "));
        Assert.Equal(ThrottleKeys.Network(IPAddress.Parse("2001:db8::1")), ThrottleKeys.Network(IPAddress.Parse("2001:db8::ffff:1")));
        Assert.NotEqual(ThrottleKeys.Network(IPAddress.Parse("2001:db8::1")), ThrottleKeys.Network(IPAddress.Parse("2001:db8:0:1::1")));
        Assert.Equal("192.0.2.1", ThrottleKeys.Network(IPAddress.Parse("::ffff:192.0.2.1")));
        Assert.NotEqual(ThrottleKeys.AccountAndIp("p:", "ab", "c"), ThrottleKeys.AccountAndIp("p:", "a", "bc"));
        Assert.DoesNotContain("ALICE", ThrottleKeys.Account("p:", "alice"), StringComparison.OrdinalIgnoreCase);
    }

    private sealed class FailingStore : ILoginThrottleStore
    {
        public string Name => "failing";

        public ValueTask<ThrottleOutcome> AcquireAsync(ThrottleRule[] rules, CancellationToken cancellationToken) =>
            throw new StackExchange.Redis.RedisTimeoutException(StackExchange.Redis.CommandFlags.None, "timed out", StackExchange.Redis.CommandStatus.Sent);

        public ValueTask ResetAsync(string[] keys, CancellationToken cancellationToken) =>
            throw new StackExchange.Redis.RedisTimeoutException(StackExchange.Redis.CommandFlags.None, "timed out", StackExchange.Redis.CommandStatus.Sent);
    }
}
