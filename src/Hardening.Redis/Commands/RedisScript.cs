using System.Security.Cryptography;
using System.Text;

namespace Hardening.Redis;

/// <summary>A Lua script run by <c>EVALSHA</c>, loaded transparently when the server does not have it.</summary>
/// <example>
/// <code>
/// static readonly RedisScript Consume = new("return redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1])");
/// var reply = await redis.EvaluateAsync(Consume, [key], [60_000]);
/// </code>
/// </example>
public sealed class RedisScript
{
    /// <summary>Creates a script from its Lua source.</summary>
    /// <param name="source">The Lua source.</param>
    /// <exception cref="ArgumentException">The source is null or blank.</exception>
    public RedisScript(string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        Source = source;
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(source)));
    }

    /// <summary>The Lua source.</summary>
    public string Source { get; }

    /// <summary>The SHA-1 of the source, as <c>SCRIPT LOAD</c> returns it.</summary>
    public string Sha1 { get; }
}
