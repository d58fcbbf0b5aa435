using Hardening.Redis;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Runs <see cref="RedisConnectionOptions.Validate"/> at start-up.</summary>
internal sealed class RedisOptionsValidator : IValidateOptions<RedisConnectionOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisConnectionOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
