namespace Hardening.Redis;

/// <summary>A message received by a subscription.</summary>
/// <param name="Channel">The channel it was published on.</param>
/// <param name="Pattern">The pattern that matched (pattern subscriptions), else null.</param>
/// <param name="Payload">The message bytes.</param>
public readonly record struct RedisMessage(string Channel, string? Pattern, ReadOnlyMemory<byte> Payload);
