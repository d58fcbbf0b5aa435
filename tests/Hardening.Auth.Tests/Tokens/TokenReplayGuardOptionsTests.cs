using Hardening.Auth;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// Every option of <see cref="TokenReplayGuardOptions"/> at and just past its limits, against hand-written messages: the
/// start-up validator, <see cref="TokenReplayGuard.Create"/> and the defaults.
/// </summary>
public sealed class TokenReplayGuardOptionsTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    public static TheoryData<string, string> Invalid => new()
    {
        { "KeyPrefix=", "TokenReplayGuardOptions.KeyPrefix '' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "KeyPrefix=   ", "TokenReplayGuardOptions.KeyPrefix '   ' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "KeyPrefix={a", "TokenReplayGuardOptions.KeyPrefix '{a' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "KeyPrefix=a{b", "TokenReplayGuardOptions.KeyPrefix 'a{b' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "KeyPrefix=a}b", "TokenReplayGuardOptions.KeyPrefix 'a}b' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "KeyPrefix=a b", "TokenReplayGuardOptions.KeyPrefix 'a b' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "KeyPrefix=a\rb", "TokenReplayGuardOptions.KeyPrefix 'a\rb' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "KeyPrefix=a\nb", "TokenReplayGuardOptions.KeyPrefix 'a\nb' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'." },
        { "ClockSkew=-1tick", "TokenReplayGuardOptions.ClockSkew is -00:00:00.0000001; it must be between 0 and 1 day (the default is 5 minutes, JwtBearer's default)." },
        { "ClockSkew=1day+1tick", "TokenReplayGuardOptions.ClockSkew is 1.00:00:00.0000001; it must be between 0 and 1 day (the default is 5 minutes, JwtBearer's default)." },
        { "StoreTimeout=0", "TokenReplayGuardOptions.StoreTimeout is 00:00:00; it must be more than 0 and at most 1 minute (default 2 seconds)." },
        { "StoreTimeout=1min+1tick", "TokenReplayGuardOptions.StoreTimeout is 00:01:00.0000001; it must be more than 0 and at most 1 minute (default 2 seconds)." },
        { "WaitForReplicas=-1", "TokenReplayGuardOptions.WaitForReplicas is -1; it must be between 0 (off) and 16." },
        { "WaitForReplicas=17", "TokenReplayGuardOptions.WaitForReplicas is 17; it must be between 0 (off) and 16." },
        { "ReplicaWaitTimeout=0", "TokenReplayGuardOptions.ReplicaWaitTimeout is 00:00:00; it must be more than 0 and at most 1 minute (default 500 ms)." },
        { "ReplicaWaitTimeout=1min+1tick", "TokenReplayGuardOptions.ReplicaWaitTimeout is 00:01:00.0000001; it must be more than 0 and at most 1 minute (default 500 ms)." },
        { "MaxInMemoryEntries=0", "TokenReplayGuardOptions.MaxInMemoryEntries is 0; it must be at least 1." },
        { "UseRedis=false,RedisServiceKey", "TokenReplayGuardOptions.RedisServiceKey and WaitForReplicas apply to the Redis store only; set UseRedis = true." },
        { "UseRedis=false,WaitForReplicas=1", "TokenReplayGuardOptions.RedisServiceKey and WaitForReplicas apply to the Redis store only; set UseRedis = true." },
    };

    public static TheoryData<string> Valid => new()
    {
        "defaults", "UseRedis", "KeyPrefix=a", "KeyPrefix=app:jti:", "ClockSkew=0", "ClockSkew=1day", "StoreTimeout=1tick", "StoreTimeout=1min",
        "WaitForReplicas=16", "ReplicaWaitTimeout=1tick", "ReplicaWaitTimeout=1min", "MaxInMemoryEntries=1", "RedisServiceKey",
    };

    /// <summary>Options with one change from a valid Redis configuration (UseRedis, so the Redis-only options are allowed).</summary>
    private static TokenReplayGuardOptions With(string change)
    {
        var o = new TokenReplayGuardOptions { UseRedis = true };
        foreach (var part in change.Split(',', 2))
        {
            var (name, value) = part.Split('=', 2) is [var n, var v] ? (n, v) : (part, "");
            switch (name)
            {
                case "defaults": o.UseRedis = false; break;
                case "UseRedis": o.UseRedis = bool.Parse(value.Length == 0 ? "true" : value); break;
                case "KeyPrefix": o.KeyPrefix = value; break;
                case "RedisServiceKey": o.RedisServiceKey = "guard"; break;
                case "WaitForReplicas": o.WaitForReplicas = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "MaxInMemoryEntries": o.MaxInMemoryEntries = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "ClockSkew": o.ClockSkew = Span(value); break;
                case "StoreTimeout": o.StoreTimeout = Span(value); break;
                case "ReplicaWaitTimeout": o.ReplicaWaitTimeout = Span(value); break;
                default: throw new ArgumentOutOfRangeException(nameof(change), change, "unknown option in the test table");
            }
        }

        return o;
    }

    private static TimeSpan Span(string value) => value switch
    {
        "0" => TimeSpan.Zero,
        "1tick" => Tick,
        "-1tick" => -Tick,
        "1min" => TimeSpan.FromMinutes(1),
        "1min+1tick" => TimeSpan.FromMinutes(1) + Tick,
        "1day" => TimeSpan.FromDays(1),
        "1day+1tick" => TimeSpan.FromDays(1) + Tick,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "unknown span in the test table"),
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Each_invalid_option_gives_exactly_its_own_message(string change, string message)
    {
        var result = new TokenReplayGuardOptionsValidator().Validate(null, With(change));
        Assert.True(result.Failed, change);
        Assert.Equal([message], result.Failures);
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void Options_at_their_limits_are_valid(string change)
    {
        var result = new TokenReplayGuardOptionsValidator().Validate("any", With(change));
        Assert.Same(ValidateOptionsResult.Success, result);
    }

    [Fact]
    public void Every_problem_is_reported_not_only_the_first()
    {
        var o = new TokenReplayGuardOptions { KeyPrefix = "", ClockSkew = -Tick, StoreTimeout = TimeSpan.Zero, WaitForReplicas = 17, ReplicaWaitTimeout = TimeSpan.Zero, MaxInMemoryEntries = 0 };
        var failures = new TokenReplayGuardOptionsValidator().Validate(null, o).Failures!.ToArray();
        Assert.Equal(7, failures.Length);
        Assert.Equal(
            ["KeyPrefix", "ClockSkew", "StoreTimeout", "WaitForReplicas", "ReplicaWaitTimeout", "MaxInMemoryEntries", "RedisServiceKey"],
            failures.Select(f => f["TokenReplayGuardOptions.".Length..].Split(' ')[0].TrimEnd('\'')));
    }

    [Fact]
    public void The_defaults_are_the_documented_ones()
    {
        var o = new TokenReplayGuardOptions();
        Assert.False(o.UseRedis);
        Assert.Null(o.RedisServiceKey);
        Assert.Equal("hardening:jti:", o.KeyPrefix);
        Assert.Equal(TimeSpan.FromMinutes(5), o.ClockSkew);
        Assert.Equal(TimeSpan.FromSeconds(2), o.StoreTimeout);
        Assert.Equal(0, o.WaitForReplicas);
        Assert.Equal(TimeSpan.FromMilliseconds(500), o.ReplicaWaitTimeout);
        Assert.Equal(100_000, o.MaxInMemoryEntries);
        Assert.False(o.FailOpen);
        Assert.False(o.AcceptTokensIssuedBeforeStoreLoss);
    }

    [Fact]
    public async Task Create_refuses_invalid_options_naming_the_parameter_and_the_first_problem()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { "127.0.0.1:1" }, AbortOnConnectFail = false, ConnectTimeout = 100 });
        var ex = Assert.Throws<ArgumentException>(() => TokenReplayGuard.Create(redis, new TokenReplayGuardOptions { ClockSkew = -Tick, MaxInMemoryEntries = 0 }));
        Assert.Equal("options", ex.ParamName);
        Assert.StartsWith("TokenReplayGuardOptions.ClockSkew is -00:00:00.0000001; it must be between 0 and 1 day", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>("redis", () => TokenReplayGuard.Create(null!));
    }

    [Fact]
    public async Task Create_with_defaults_builds_a_redis_guard_with_the_default_skew()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { "127.0.0.1:1" }, AbortOnConnectFail = false, ConnectTimeout = 100 });
        var guard = TokenReplayGuard.Create(redis);
        Assert.Equal(TimeSpan.FromMinutes(5), guard.ClockSkew);
        Assert.Equal("redis", guard.Store.Name);
        Assert.Equal(TimeSpan.FromSeconds(30), TokenReplayGuard.Create(redis, new TokenReplayGuardOptions { ClockSkew = TimeSpan.FromSeconds(30) }).ClockSkew);
    }
}
