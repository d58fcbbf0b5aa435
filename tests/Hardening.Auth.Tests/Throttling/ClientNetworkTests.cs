using System.Net;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Throttling;

/// <summary>
/// Issue 16, the class "one client, many buckets": address rotation inside the prefix a client holds, the several
/// spellings of one address, and attempts with no address at all. Every property runs against the in-memory store and
/// the Redis store (one server and the cluster); the oracle is a plain counting model over prefixes computed with
/// <see cref="UInt128"/> arithmetic, not with the package's code.
/// </summary>
public abstract class ClientNetworkTests(IRedisTarget? redis)
{
    /// <summary>A spray: attempts from addresses inside one /48, each on a fresh account.</summary>
    /// <param name="Base">The /48 the sprayer holds (random).</param>
    /// <param name="Addresses">Per attempt: the address, drawn from a few /56s and many /64s inside the /48.</param>
    /// <param name="IpThreshold">The /64 budget.</param>
    public sealed record Spray(UInt128 Base, UInt128[] Addresses, int IpThreshold, int Slash56Threshold, int Slash48Threshold);

    public static class Cases
    {
        public static Arbitrary<Spray> Spray() =>
            (from hi in Gen.Choose(0x2001, 0x3fff)
             from a in Gen.Choose(0, 0xffff)
             from b in Gen.Choose(0, 0xffff)
             from ip in Gen.Choose(1, 4)
             from n56 in Gen.Choose(2, 12)
             from n48 in Gen.Choose(3, 30)
             from count in Gen.Choose(10, 90)
             from picks in Gen.ArrayOf(
                 from slash56 in Gen.Choose(0, 3)        // a few /56s: byte 6 of the address
                 from slash64 in Gen.Choose(0, 255)      // many /64s: byte 7
                 from host in Gen.Choose(0, int.MaxValue)
                 select ((UInt128)(uint)slash56 << 72) | ((UInt128)(uint)slash64 << 64) | (uint)host, count)
             let @base = ((UInt128)(uint)hi << 112) | ((UInt128)(uint)a << 96) | ((UInt128)(uint)b << 80)
             select new Spray(@base, picks.Select(p => @base | p).ToArray(), ip, n56, n48)).ToArbitrary();

        public static Arbitrary<IPAddress> Ipv4() =>
            Gen.Choose(int.MinValue, int.MaxValue).Select(v => new IPAddress(BitConverter.GetBytes(v))).ToArbitrary();
    }

    private ILoginThrottleStore Store(Tokens.AuthTestKit kit, string prefix) => redis is null
        ? new InMemoryLoginThrottleStore(1_000_000, kit.Time)
        : new RedisLoginThrottleStore(redis.Multiplexer, prefix, TimeSpan.FromSeconds(2), TimeProvider.System);

    private static LoginThrottleLimit Long(int threshold) => new() { Threshold = threshold, Window = TimeSpan.FromHours(1), Lockout = TimeSpan.FromHours(1), MaxLockout = TimeSpan.FromHours(1) };

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public bool A_sprayer_rotating_addresses_inside_its_prefix_gets_no_more_than_each_prefix_budget(Spray spray)
    {
        using var kit = new Tokens.AuthTestKit();
        var options = new LoginThrottleOptions
        {
            AccountAndIp = new() { Threshold = 0 },
            Account = new() { Threshold = 0 },
            Ip = Long(spray.IpThreshold),
            Ipv6NetworkLimits = new Dictionary<int, LoginThrottleLimit> { [56] = Long(spray.Slash56Threshold), [48] = Long(spray.Slash48Threshold) },
            KeyPrefix = $"n:{Guid.NewGuid():N}:",
        };
        var throttle = LoginThrottleTests.Create(kit, options, Store(kit, options.KeyPrefix));

        // The model: one counter per /64, /56 and /48 (prefixes by bit masks); an attempt is admitted while no counter
        // has reached its budget, and then counts in all three.
        var counters = new Dictionary<(int, UInt128), int>();
        var n = 0;
        foreach (var address in spray.Addresses)
        {
            (int Length, int Budget)[] scopes = [(64, spray.IpThreshold), (56, spray.Slash56Threshold), (48, spray.Slash48Threshold)];
            var expected = scopes.All(s => counters.GetValueOrDefault((s.Length, Mask(address, s.Length))) < s.Budget);
            var actual = throttle.AcquireAsync($"victim{n++}@example.com", ToAddress(address)).AsTask().GetAwaiter().GetResult();
            if (actual.IsAllowed != expected)
            {
                throw new InvalidOperationException($"attempt {n} from {ToAddress(address)}: expected allowed={expected}, got {actual.IsAllowed} ({actual.Scope})");
            }

            if (expected)
            {
                foreach (var s in scopes)
                {
                    counters[(s.Length, Mask(address, s.Length))] = counters.GetValueOrDefault((s.Length, Mask(address, s.Length))) + 1;
                }
            }
            else if (actual.Scope is not (LoginThrottleScope.Ip or LoginThrottleScope.Ipv6Network))
            {
                throw new InvalidOperationException($"attempt {n}: refused with scope {actual.Scope}");
            }
        }

        return true;
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public bool Every_spelling_of_one_IPv4_client_counts_in_one_bucket(IPAddress v4, PositiveInt threshold)
    {
        using var kit = new Tokens.AuthTestKit();
        var budget = 1 + (threshold.Get % 6);
        var options = new LoginThrottleOptions { AccountAndIp = new() { Threshold = 0 }, Account = new() { Threshold = 0 }, Ip = Long(budget), KeyPrefix = $"n:{Guid.NewGuid():N}:" };
        var throttle = LoginThrottleTests.Create(kit, options, Store(kit, options.KeyPrefix));

        // The IPv4 address, its IPv4-mapped IPv6 form built by the runtime, and the mapped form parsed from text in both spellings.
        var b = v4.GetAddressBytes();
        IPAddress[] spellings =
        [
            v4,
            v4.MapToIPv6(),
            IPAddress.Parse($"::ffff:{v4}"),
            IPAddress.Parse($"::ffff:{(b[0] << 8) | b[1]:x}:{(b[2] << 8) | b[3]:x}"),
        ];
        var admitted = 0;
        for (var i = 0; i < budget + 4; i++)
        {
            if (throttle.AcquireAsync($"a{i}", spellings[i % spellings.Length]).AsTask().GetAwaiter().GetResult().IsAllowed)
            {
                admitted++;
            }
        }

        return admitted == budget;
    }

    [Property(MaxTest = 100)]
    public bool Link_local_clients_on_different_interfaces_share_their_64(PositiveInt scope, PositiveInt host)
    {
        using var kit = new Tokens.AuthTestKit();
        var options = new LoginThrottleOptions { AccountAndIp = new() { Threshold = 0 }, Account = new() { Threshold = 0 }, Ip = Long(1), KeyPrefix = $"n:{Guid.NewGuid():N}:" };
        var throttle = LoginThrottleTests.Create(kit, options, Store(kit, options.KeyPrefix));
        var first = IPAddress.Parse($"fe80::{host.Get % 0xffff:x}%{scope.Get % 64}");
        var second = IPAddress.Parse($"fe80::1:{host.Get % 0xffff:x}%{(scope.Get % 64) + 1}");
        return throttle.AcquireAsync("a", first).AsTask().GetAwaiter().GetResult().IsAllowed
            && !throttle.AcquireAsync("b", second).AsTask().GetAwaiter().GetResult().IsAllowed;
    }

    [Property(MaxTest = 100)]
    public bool Attempts_without_a_client_address_are_refused_by_default_and_count_nowhere(NonEmptyString account)
    {
        using var kit = new Tokens.AuthTestKit();
        var options = new LoginThrottleOptions { KeyPrefix = $"n:{Guid.NewGuid():N}:" };
        var store = new CountingStore(Store(kit, options.KeyPrefix));
        var throttle = LoginThrottleTests.Create(kit, options, store);
        var decision = throttle.AcquireAsync(account.Get, null).AsTask().GetAwaiter().GetResult();
        return !decision.IsAllowed
            && decision.Scope == LoginThrottleScope.ClientAddressMissing
            && store.Calls == 0
            && kit.Logs.Events("LoginWithoutClientAddress").Count == 1;
    }

    [Property(MaxTest = 100)]
    public bool With_AccountOnly_attempts_without_an_address_never_lock_another_account(PositiveInt attackerAttempts, PositiveInt budget)
    {
        using var kit = new Tokens.AuthTestKit();
        var threshold = 1 + (budget.Get % 5);
        var options = new LoginThrottleOptions
        {
            AccountAndIp = Long(threshold),
            Account = Long(threshold),
            Ip = Long(threshold),
            MissingClientAddress = LoginThrottleMissingAddress.AccountOnly,
            KeyPrefix = $"n:{Guid.NewGuid():N}:",
        };
        var throttle = LoginThrottleTests.Create(kit, options, Store(kit, options.KeyPrefix));

        // The attacker hammers accounts of its own without an address; the victim, also without one, still gets its
        // whole account budget, and then no more.
        for (var i = 0; i < 1 + (attackerAttempts.Get % 40); i++)
        {
            _ = throttle.AcquireAsync($"attacker{i % 3}", null).AsTask().GetAwaiter().GetResult();
        }

        var admitted = Enumerable.Range(0, threshold + 3).Count(_ => throttle.AcquireAsync("victim", null).AsTask().GetAwaiter().GetResult().IsAllowed);
        return admitted == threshold;
    }

    [Property(MaxTest = 200)]
    public bool Network_keys_are_the_masked_prefix(UInt64 hi, UInt64 lo, PositiveInt length)
    {
        var address = ((UInt128)hi << 64) | lo;
        var bits = 16 + (length.Get % 49); // 16..64
        var text = ThrottleKeys.Network(ToAddress(address), bits);
        var parts = text.Split('/');
        var parsed = IPAddress.Parse(parts[0]);
        return parsed.AddressFamily == AddressFamily.InterNetworkV6
            && parts[1] == bits.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && FromAddress(parsed) == Mask(address, bits);
    }

    [Fact]
    public void Invalid_network_limits_are_refused_at_start_up_with_the_option_named()
    {
        foreach (var (options, fragment) in new (Action<LoginThrottleOptions>, string)[]
        {
            (o => o.Ipv6NetworkLimits[64] = new() { Threshold = 1 }, "prefix length 64"),
            (o => o.Ipv6NetworkLimits[8] = new() { Threshold = 1 }, "prefix length 8"),
            (o => o.Ipv6NetworkLimits[48].Lockout = TimeSpan.Zero, "Ipv6NetworkLimits[48]"),
            (o => o.Ipv6NetworkLimits = null!, "must not be null"),
            (o => o.MissingClientAddress = (LoginThrottleMissingAddress)7, "MissingClientAddress"),
        })
        {
            var o = new LoginThrottleOptions();
            options(o);
            Assert.Contains(fragment, o.NetworkProblem(), StringComparison.Ordinal);
        }

        Assert.Null(new LoginThrottleOptions().NetworkProblem());
    }

    internal static UInt128 Mask(UInt128 address, int bits) => bits == 0 ? 0 : address & (UInt128.MaxValue << (128 - bits));

    internal static IPAddress ToAddress(UInt128 value)
    {
        var bytes = new byte[16];
        for (var i = 0; i < 16; i++)
        {
            bytes[15 - i] = (byte)(value >> (8 * i));
        }

        return new IPAddress(bytes);
    }

    private static UInt128 FromAddress(IPAddress address)
    {
        UInt128 value = 0;
        foreach (var b in address.GetAddressBytes())
        {
            value = (value << 8) | b;
        }

        return value;
    }

    private sealed class CountingStore(ILoginThrottleStore inner) : ILoginThrottleStore
    {
        public int Calls;

        public string Name => inner.Name;

        public ValueTask<ThrottleOutcome> AcquireAsync(ThrottleRule[] rules, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return inner.AcquireAsync(rules, cancellationToken);
        }

        public ValueTask ResetAsync(string[] keys, CancellationToken cancellationToken) => inner.ResetAsync(keys, cancellationToken);
    }
}

public sealed class ClientNetworkInMemoryTests() : ClientNetworkTests(null);

public sealed class ClientNetworkOnOneServerTests(RedisFixture redis) : ClientNetworkTests(redis), IClassFixture<RedisFixture>;

public sealed class ClientNetworkOnClusterTests(RedisClusterFixture redis) : ClientNetworkTests(redis), IClassFixture<RedisClusterFixture>;
