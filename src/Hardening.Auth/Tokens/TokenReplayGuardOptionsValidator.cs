using Microsoft.Extensions.Options;

namespace Hardening.Auth;

/// <summary>Validates <see cref="TokenReplayGuardOptions"/> at start-up; each message names the option and the allowed values.</summary>
internal sealed class TokenReplayGuardOptionsValidator : IValidateOptions<TokenReplayGuardOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenReplayGuardOptions options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static IEnumerable<string> Problems(TokenReplayGuardOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.KeyPrefix) || o.KeyPrefix.AsSpan().IndexOfAny("{} \r\n") >= 0)
        {
            yield return $"TokenReplayGuardOptions.KeyPrefix '{o.KeyPrefix}' must be non-empty without spaces or braces (the key adds its own hash tag); use a prefix such as 'hardening:jti:'.";
        }

        if (o.ClockSkew < TimeSpan.Zero || o.ClockSkew > TimeSpan.FromDays(1))
        {
            yield return $"TokenReplayGuardOptions.ClockSkew is {o.ClockSkew}; it must be between 0 and 1 day (the default is 5 minutes, JwtBearer's default).";
        }

        if (o.StoreTimeout <= TimeSpan.Zero || o.StoreTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"TokenReplayGuardOptions.StoreTimeout is {o.StoreTimeout}; it must be more than 0 and at most 1 minute (default 2 seconds).";
        }

        if (o.WaitForReplicas < 0 || o.WaitForReplicas > 16)
        {
            yield return $"TokenReplayGuardOptions.WaitForReplicas is {o.WaitForReplicas}; it must be between 0 (off) and 16.";
        }

        if (o.ReplicaWaitTimeout <= TimeSpan.Zero || o.ReplicaWaitTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"TokenReplayGuardOptions.ReplicaWaitTimeout is {o.ReplicaWaitTimeout}; it must be more than 0 and at most 1 minute (default 500 ms).";
        }

        if (o.MaxInMemoryEntries < 1)
        {
            yield return $"TokenReplayGuardOptions.MaxInMemoryEntries is {o.MaxInMemoryEntries}; it must be at least 1.";
        }

        if (!o.UseRedis && (o.RedisServiceKey is not null || o.WaitForReplicas > 0))
        {
            yield return "TokenReplayGuardOptions.RedisServiceKey and WaitForReplicas apply to the Redis store only; set UseRedis = true.";
        }
    }
}
