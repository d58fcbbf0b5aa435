namespace Hardening.Redis;

/// <summary>Connection state reported by <see cref="RedisConnection.StateChanged"/>.</summary>
public enum RedisConnectionState
{
    /// <summary>Connecting or reconnecting.</summary>
    Connecting,

    /// <summary>Connected and ready.</summary>
    Connected,

    /// <summary>The socket is down; commands fail fast until a reconnect succeeds.</summary>
    Disconnected,

    /// <summary>Disposed; commands throw <see cref="ObjectDisposedException"/>.</summary>
    Disposed,
}
