using Microsoft.Extensions.Options;

namespace Hardening.Sse;

/// <summary>Validates <see cref="SseOptions"/> at start-up; each message names the option and the allowed values.</summary>
internal sealed class SseOptionsValidator : IValidateOptions<SseOptions>
{
    public ValidateOptionsResult Validate(string? name, SseOptions options)
    {
        var errors = new List<string>();
        if (options.RetentionCount < 1)
        {
            errors.Add($"SseOptions.RetentionCount is {options.RetentionCount}; it must be at least 1 (events kept per stream for replay).");
        }

        if (options.RetentionAge <= TimeSpan.Zero)
        {
            errors.Add($"SseOptions.RetentionAge is {options.RetentionAge}; it must be positive.");
        }

        if (options.IdleStreamExpiry < options.RetentionAge)
        {
            errors.Add($"SseOptions.IdleStreamExpiry ({options.IdleStreamExpiry}) is shorter than RetentionAge ({options.RetentionAge}); idle streams would lose events that should still be replayable.");
        }

        if (options.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || options.HeartbeatInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"SseOptions.HeartbeatInterval is {options.HeartbeatInterval}; use between 100 ms and 10 minutes (proxies close idle connections after about a minute).");
        }

        if (options.ReconnectionInterval < TimeSpan.Zero || options.ReconnectionInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"SseOptions.ReconnectionInterval is {options.ReconnectionInterval}; use between 0 and 1 hour.");
        }

        if (options.SubscriberQueueCapacity < 1)
        {
            errors.Add($"SseOptions.SubscriberQueueCapacity is {options.SubscriberQueueCapacity}; it must be at least 1.");
        }

        if (options.ReplayBatchSize < 1 || options.ReplayBatchSize > 10_000)
        {
            errors.Add($"SseOptions.ReplayBatchSize is {options.ReplayBatchSize}; use between 1 and 10,000.");
        }

        if (options.MaxDataLength < 1)
        {
            errors.Add($"SseOptions.MaxDataLength is {options.MaxDataLength}; it must be at least 1.");
        }

        if (options.StoreTimeout <= TimeSpan.Zero || options.StoreTimeout > TimeSpan.FromMinutes(1))
        {
            errors.Add($"SseOptions.StoreTimeout is {options.StoreTimeout}; it must be more than 0 and at most 1 minute (default 2 seconds).");
        }

        if (!options.UseRedis && options.RedisServiceKey is not null)
        {
            errors.Add("SseOptions.RedisServiceKey applies to the Redis store only; set UseRedis = true.");
        }

        if (string.IsNullOrEmpty(options.RedisKeyPrefix) || options.RedisKeyPrefix.AsSpan().IndexOfAny("{}*?[] \r\n") >= 0)
        {
            errors.Add($"SseOptions.RedisKeyPrefix '{options.RedisKeyPrefix}' must be non-empty without spaces, braces or glob characters, e.g. 'sse:'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
