namespace Hardening.Redis;

/// <summary>An entry of a Redis stream.</summary>
/// <param name="Id">The entry id (<c>ms-seq</c>).</param>
/// <param name="Fields">Field/value pairs in order.</param>
public sealed record RedisStreamEntry(string Id, IReadOnlyList<KeyValuePair<string, byte[]>> Fields);
