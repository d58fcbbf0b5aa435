using Hardening.Sse;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hardening.Sse.Tests.Publishing;

/// <summary>
/// Publishing, reading and subscribing on the Redis store never resume on the caller's
/// <see cref="SynchronizationContext"/> (a UI thread or legacy ASP.NET publishing an event and blocking on it would
/// deadlock). Redis is reached through a slow link (each reply held 5 ms), so every call really waits.
/// </summary>
public sealed class CallerContextTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan SlowLink = TimeSpan.FromMilliseconds(5);

    [Fact]
    public async Task Publishing_reading_and_subscribing_do_not_resume_on_the_callers_context()
    {
        await using var proxy = RoundTripProxy.Start(redis.Server.Host, redis.Server.Port, SlowLink, postgres: false);
        await using var connection = await TestRedis.ConnectAsync($"{redis.Server.Host}:{proxy.Port}");
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddSingleton<IConnectionMultiplexer>(connection);
        services.AddHardeningSse(o => o.UseRedis = true);
        await using var provider = services.BuildServiceProvider();
        var publisher = provider.GetRequiredService<SsePublisher>();
        var store = provider.GetRequiredService<ISseStore>();
        var stream = $"ctx-{Guid.NewGuid():N}";
        var context = new CallerContext();

        var listener = new Listener();
        var subscription = await context.Value(() => store.SubscribeAsync(stream, listener, CancellationToken.None));
        var first = await context.Value(() => publisher.PublishAsync(stream, "e", "1"));
        var again = await context.Value(() => publisher.PublishAsync(stream, "e", "2", "key-1"));
        Assert.Equal(again.Id, (await context.Value(() => publisher.PublishAsync(stream, "e", "2", "key-1"))).Id);
        var history = await context.Value(() => store.ReadAsync(stream, 0, 10, CancellationToken.None));
        Assert.Equal([first.Sequence, again.Sequence], history.Events.Select(e => e.Sequence));
        await listener.Received(again.Sequence).WaitAsync(TimeSpan.FromSeconds(30));
        await context.Run(() => subscription.DisposeAsync().AsTask());

        Assert.Equal(0, context.Posts);
    }

    private sealed class Listener : ISseListener
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<long, TaskCompletionSource> _events = new();

        public Task Received(long sequence) => Event(sequence).Task;

        public void OnEvent(SseEvent sseEvent) => Event(sseEvent.Sequence).TrySetResult();

        public void OnCatchUpNeeded()
        {
        }

        public void OnStoreUnavailable()
        {
        }

        private TaskCompletionSource Event(long sequence) =>
            _events.GetOrAdd(sequence, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
