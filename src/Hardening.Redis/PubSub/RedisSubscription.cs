namespace Hardening.Redis;

/// <summary>An active subscription; dispose to unsubscribe.</summary>
public sealed class RedisSubscription : IAsyncDisposable
{
    private readonly Func<ValueTask> _unsubscribe;
    private int _disposed;

    internal RedisSubscription(string channel, bool isPattern, Func<ValueTask> unsubscribe)
    {
        Channel = channel;
        IsPattern = isPattern;
        _unsubscribe = unsubscribe;
    }

    /// <summary>The channel, or the pattern for a pattern subscription.</summary>
    public string Channel { get; }

    /// <summary>True for a <c>PSUBSCRIBE</c> subscription.</summary>
    public bool IsPattern { get; }

    /// <summary>Stops this handler; the server-side subscription ends when the last handler for the channel goes.</summary>
    /// <returns>A task that completes when unsubscribed (connection errors are ignored: the subscription is gone either way).</returns>
    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _disposed, 1) == 0 ? _unsubscribe() : ValueTask.CompletedTask;
}
