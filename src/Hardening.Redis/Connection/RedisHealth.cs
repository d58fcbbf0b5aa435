namespace Hardening.Redis;

/// <summary>The result of <see cref="RedisConnection.CheckHealthAsync"/>.</summary>
/// <param name="IsHealthy">True when the connection is up and answered <c>PING</c>.</param>
/// <param name="State">The connection state at the time of the check.</param>
/// <param name="RoundTrip">The <c>PING</c> round-trip time, or null when it failed.</param>
/// <param name="Error">Why it is unhealthy, or null.</param>
public readonly record struct RedisHealth(bool IsHealthy, RedisConnectionState State, TimeSpan? RoundTrip, string? Error);
