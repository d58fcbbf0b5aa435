namespace Hardening.Redis;

/// <summary>How <c>XADD</c> trims the stream: <c>MAXLEN</c> or <c>MINID</c>, exact (<c>=</c>) or approximate (<c>~</c>).</summary>
public readonly record struct RedisStreamTrim
{
    private RedisStreamTrim(long? maxLength, string? minId, bool approximate)
    {
        MaxLength = maxLength;
        MinId = minId;
        Approximate = approximate;
    }

    /// <summary>Keep at most this many entries (<c>MAXLEN</c>), or null.</summary>
    public long? MaxLength { get; }

    /// <summary>Drop entries with ids below this (<c>MINID</c>), or null.</summary>
    public string? MinId { get; }

    /// <summary>Trim approximately (<c>~</c>, cheaper) rather than exactly (<c>=</c>).</summary>
    public bool Approximate { get; }

    /// <summary><c>MAXLEN [~|=] n</c>.</summary>
    /// <param name="maxLength">Entries to keep, 0 or more.</param>
    /// <param name="approximate">Use <c>~</c> (default) rather than <c>=</c>.</param>
    /// <returns>The trim.</returns>
    public static RedisStreamTrim ToMaxLength(long maxLength, bool approximate = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        return new(maxLength, null, approximate);
    }

    /// <summary><c>MINID [~|=] id</c>.</summary>
    /// <param name="minId">The lowest id to keep, e.g. <c>1700000000000-0</c>.</param>
    /// <param name="approximate">Use <c>~</c> (default) rather than <c>=</c>.</param>
    /// <returns>The trim.</returns>
    public static RedisStreamTrim ToMinId(string minId, bool approximate = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(minId);
        return new(null, minId, approximate);
    }
}
