using Microsoft.Extensions.Options;

namespace Hardening.Auth;

/// <summary>Validates <see cref="LoginThrottleOptions"/> at start-up; each message names the option and the allowed values.</summary>
internal sealed class LoginThrottleOptionsValidator : IValidateOptions<LoginThrottleOptions>
{
    public ValidateOptionsResult Validate(string? name, LoginThrottleOptions options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static IEnumerable<string> Problems(LoginThrottleOptions o)
    {
        if (o.NetworkProblem() is { } network)
        {
            yield return network;
        }

        foreach (var (option, limit) in new[] { (nameof(o.AccountAndIp), o.AccountAndIp), (nameof(o.Account), o.Account), (nameof(o.Ip), o.Ip) })
        {
            if (limit is null)
            {
                yield return $"LoginThrottleOptions.{option} is null; set Threshold = 0 to turn the limit off instead.";
                continue;
            }

            if (limit.Threshold < 0)
            {
                yield return $"LoginThrottleOptions.{option}.Threshold is {limit.Threshold}; use 0 (off) or more.";
            }
            else if (limit.Threshold > 0)
            {
                if (limit.Window <= TimeSpan.Zero)
                {
                    yield return $"LoginThrottleOptions.{option}.Window is {limit.Window}; it must be positive while the limit is on.";
                }

                if (limit.Lockout <= TimeSpan.Zero)
                {
                    yield return $"LoginThrottleOptions.{option}.Lockout is {limit.Lockout}; it must be positive while the limit is on.";
                }

                if (limit.MaxLockout < limit.Lockout)
                {
                    yield return $"LoginThrottleOptions.{option}.MaxLockout ({limit.MaxLockout}) is shorter than Lockout ({limit.Lockout}); it must be at least Lockout.";
                }
            }
        }

        if (string.IsNullOrWhiteSpace(o.KeyPrefix) || o.KeyPrefix.AsSpan().IndexOfAny("{} \r\n") >= 0)
        {
            yield return $"LoginThrottleOptions.KeyPrefix '{o.KeyPrefix}' must be non-empty without spaces or braces (the Redis store adds its own hash tag), e.g. 'hardening:login:'.";
        }

        if (o.MaxInMemoryEntries < 3)
        {
            yield return $"LoginThrottleOptions.MaxInMemoryEntries is {o.MaxInMemoryEntries}; it must be at least 3.";
        }

        if (o.StoreTimeout <= TimeSpan.Zero || o.StoreTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"LoginThrottleOptions.StoreTimeout is {o.StoreTimeout}; it must be more than 0 and at most 1 minute (default 2 seconds).";
        }

        if (!o.UseRedis && o.RedisServiceKey is not null)
        {
            yield return "LoginThrottleOptions.RedisServiceKey applies to the Redis store only; set UseRedis = true.";
        }
    }
}
