using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using PasswordHasher = Hardening.Auth.PasswordHasher;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>
/// The cost calibration rule, driven through its measurement seam with fake hash times (no clock involved):
/// costs MinCost..MaxCost in order, each measured once, stopping at the first whose time exceeds the target; the result
/// is the cost before it. Expectations come from a closed form or a direct reading of the time table, not the code.
/// </summary>
public sealed class CalibrationTests
{
    private const int Min = PasswordHasherOptions.MinCost;
    private const int Max = PasswordHasherOptions.MaxCost;

    /// <summary>A fake measurement from a table of times per cost that records the costs asked for.</summary>
    private sealed class Clock(Func<int, long> ticks)
    {
        public List<int> Measured { get; } = [];

        public TimeSpan Measure(int cost)
        {
            Assert.InRange(cost, Min, Max); // fails fast instead of looping when a mutant walks outside the range
            Measured.Add(cost);
            return TimeSpan.FromTicks(ticks(cost));
        }
    }

    private static int[] Costs(int from, int to) => Enumerable.Range(from, to - from + 1).ToArray();

    public sealed record Doubling(long BaseTicks, long TargetTicks)
    {
        public override string ToString() => $"time(cost) = {BaseTicks} ticks * 2^(cost - {Min}), target {TargetTicks} ticks";
    }

    public static class Doublings
    {
        // Targets anywhere up to ten minutes, and (where within the limit) targets at, just under and just over one cost's time (the edges of the rule).
        public static Arbitrary<Doubling> Arbitrary() =>
            (from baseTicks in Gen.Choose(1, 1 << 20).Select(b => (long)b)
             from at in Gen.Choose(Min, Max)
             from delta in Gen.Choose(-1, 1)
             from minutes in Gen.Choose(0, 9)
             from rest in Gen.Choose(0, (int)(TimeSpan.TicksPerMinute - 1))
             let anywhere = (minutes * TimeSpan.TicksPerMinute) + rest + 1
             from edge in Gen.Elements(true, false)
             let atCost = (baseTicks << (at - Min)) + delta
             select new Doubling(baseTicks, edge && atCost is > 0 and <= 10 * TimeSpan.TicksPerMinute ? atCost : anywhere)).ToArbitrary();
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Doublings)])]
    public void A_doubling_hash_time_gives_the_highest_cost_at_or_under_the_target(Doubling d)
    {
        var clock = new Clock(cost => d.BaseTicks << (cost - Min));

        var actual = PasswordHasher.CalibrateCost(TimeSpan.FromTicks(d.TargetTicks), clock.Measure);

        // base * 2^k <= target  <=>  2^k <= floor(target / base)  <=>  k <= log2(floor(target / base)).
        var expected = d.TargetTicks < d.BaseTicks ? Min : Math.Min(Max, Min + BitOperations.Log2((ulong)(d.TargetTicks / d.BaseTicks)));
        Assert.Equal(expected, actual);
        var lastMeasured = d.TargetTicks < d.BaseTicks ? Min : Math.Min(Max, expected + 1); // the first over the target, if any
        Assert.Equal(Costs(Min, lastMeasured), clock.Measured);
    }

    public sealed record Noisy(long[] Ticks, long TargetTicks)
    {
        public override string ToString() => $"times [{string.Join(", ", Ticks)}] ticks for costs {Min}..{Max}, target {TargetTicks} ticks";
    }

    public static class Noisies
    {
        // Measured times need not grow with the cost (a noisy machine): the rule still stops at the first one over.
        public static Arbitrary<Noisy> Arbitrary() =>
            (from target in Gen.Choose(1, 1000)
             from ticks in Gen.ArrayOf(Gen.Frequency((4, Gen.Choose(0, target)), (1, Gen.Choose(target + 1, 2000))), Max - Min + 1)
             select new Noisy(ticks.Select(t => (long)t).ToArray(), target)).ToArbitrary();
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Noisies)])]
    public void Noisy_times_stop_at_the_first_cost_over_the_target(Noisy n)
    {
        var clock = new Clock(cost => n.Ticks[cost - Min]);

        var actual = PasswordHasher.CalibrateCost(TimeSpan.FromTicks(n.TargetTicks), clock.Measure);

        var firstOver = Array.FindIndex(n.Ticks, t => t > n.TargetTicks);
        Assert.Equal(firstOver switch { < 0 => Max, 0 => Min, _ => Min + firstOver - 1 }, actual);
        Assert.Equal(Costs(Min, firstOver < 0 ? Max : Min + firstOver), clock.Measured);
    }

    [Fact]
    public void A_cost_whose_time_equals_the_target_is_kept()
    {
        var clock = new Clock(cost => 1000L << (cost - Min));
        Assert.Equal(7, PasswordHasher.CalibrateCost(TimeSpan.FromTicks(8000), clock.Measure)); // time(7) == 8000 ticks
        Assert.Equal(Costs(Min, 8), clock.Measured);

        clock = new Clock(cost => 1000L << (cost - Min));
        Assert.Equal(6, PasswordHasher.CalibrateCost(TimeSpan.FromTicks(7999), clock.Measure));
        Assert.Equal(Costs(Min, 7), clock.Measured);

        clock = new Clock(_ => 5000);
        Assert.Equal(Max, PasswordHasher.CalibrateCost(TimeSpan.FromTicks(5000), clock.Measure)); // every cost exactly at the target
        Assert.Equal(Costs(Min, Max), clock.Measured);
    }

    [Fact]
    public void The_minimum_is_returned_when_the_first_cost_is_already_over_and_nothing_else_is_measured()
    {
        var clock = new Clock(_ => 101);
        Assert.Equal(Min, PasswordHasher.CalibrateCost(TimeSpan.FromTicks(100), clock.Measure));
        Assert.Equal([Min], clock.Measured);
    }

    [Fact]
    public void The_maximum_is_returned_when_every_cost_is_under_and_each_is_measured_once_in_order()
    {
        var clock = new Clock(cost => cost);
        Assert.Equal(Max, PasswordHasher.CalibrateCost(TimeSpan.FromMinutes(10), clock.Measure));
        Assert.Equal(Costs(Min, Max), clock.Measured);

        clock = new Clock(cost => cost == Max ? 2 : 1); // only the last one over
        Assert.Equal(Max - 1, PasswordHasher.CalibrateCost(TimeSpan.FromTicks(1), clock.Measure));
        Assert.Equal(Costs(Min, Max), clock.Measured);
    }

    public static TheoryData<long> RefusedTargets => new()
    {
        0,
        -1,
        TimeSpan.MinValue.Ticks,
        (10 * TimeSpan.TicksPerMinute) + 1,
        TimeSpan.MaxValue.Ticks,
    };

    [Theory]
    [MemberData(nameof(RefusedTargets))]
    public void Targets_outside_one_tick_to_ten_minutes_are_refused_before_any_measurement(long ticks)
    {
        var clock = new Clock(_ => 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.CalibrateCost(TimeSpan.FromTicks(ticks), clock.Measure));
        Assert.Equal("target", error.ParamName);
        Assert.Equal(TimeSpan.FromTicks(ticks), error.ActualValue);
        Assert.StartsWith("The calibration target must be positive and at most 10 minutes, e.g. 250 ms.", error.Message, StringComparison.Ordinal);
        Assert.Empty(clock.Measured);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(10 * TimeSpan.TicksPerMinute)]
    public void Targets_of_one_tick_and_exactly_ten_minutes_are_accepted(long ticks)
    {
        var clock = new Clock(_ => 0);
        Assert.Equal(Max, PasswordHasher.CalibrateCost(TimeSpan.FromTicks(ticks), clock.Measure));
        Assert.Equal(Costs(Min, Max), clock.Measured);
    }
}
