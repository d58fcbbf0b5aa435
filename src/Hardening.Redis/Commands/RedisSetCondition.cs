namespace Hardening.Redis;

/// <summary>Condition and expiry of a <c>SET</c>.</summary>
public enum RedisSetCondition
{
    /// <summary>Always set.</summary>
    Always,

    /// <summary><c>NX</c>: only if the key does not exist.</summary>
    NotExists,

    /// <summary><c>XX</c>: only if the key exists.</summary>
    Exists,
}
