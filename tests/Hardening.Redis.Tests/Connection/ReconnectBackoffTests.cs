using FsCheck;
using FsCheck.Fluent;

namespace Hardening.Redis.Tests.Connection;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Backoff_doubles_from_the_minimum_up_to_the_cap()
    {
        var min = TimeSpan.FromMilliseconds(100);
        var max = TimeSpan.FromSeconds(5);
        Assert.Equal(TimeSpan.FromMilliseconds(100), ReconnectBackoff.Delay(0, min, max, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), ReconnectBackoff.Delay(1, min, max, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(800), ReconnectBackoff.Delay(3, min, max, 1));
        Assert.Equal(TimeSpan.FromSeconds(5), ReconnectBackoff.Delay(10, min, max, 1));
        Assert.Equal(TimeSpan.FromSeconds(5), ReconnectBackoff.Delay(int.MaxValue, min, max, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(50), ReconnectBackoff.Delay(0, min, max, 0));
    }

    [Fact]
    public void Jittered_delay_stays_between_half_and_all_of_the_step()
    {
        var cases = from attempt in Gen.Choose(0, 40)
                    from minMs in Gen.Choose(1, 1000)
                    from extraMs in Gen.Choose(0, 60_000)
                    from random in Gen.Choose(0, 1000).Select(r => r / 1000.0)
                    select (attempt, minMs, extraMs, random);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var min = TimeSpan.FromMilliseconds(c.minMs);
            var max = TimeSpan.FromMilliseconds(c.minMs + c.extraMs);
            var step = Math.Min(max.TotalMilliseconds, c.minMs * Math.Pow(2, c.attempt));
            var delay = ReconnectBackoff.Delay(c.attempt, min, max, c.random).TotalMilliseconds;
            return delay >= (step / 2) - 0.001 && delay <= step + 0.001 && delay <= max.TotalMilliseconds + 0.001;
        }).Check(PropertyConfig.Create(200));
    }
}
