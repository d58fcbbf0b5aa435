using System.Net;
using System.Text.Json;
using Hardening.Sse.Tests.Support;

namespace Hardening.Sse.Tests.Redis;

/// <summary>Redis goes down and comes back (a dedicated server: the shared one is never stopped).</summary>
public sealed class RedisOutageTests
{
    [Fact]
    public async Task Publishers_get_a_clear_error_subscribers_are_told_to_retry_and_both_recover()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = await TestRedis.ConnectAsync(server.ConnectionString);
        await using var host = await SseTestHost.StartOnRedisAsync(redis, o =>
        {
            o.ReconnectionInterval = TimeSpan.FromMilliseconds(200);
            // After an outage the subscriber connection may come back after the command connection; events published
            // in between reach live readers through the catch-up once it is back (the heartbeat's poll is a backstop).
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
        });
        var before = await host.Publisher.PublishAsync("s", "e", "before");
        await using var live = await host.ConnectAsync("s", $"{before.Epoch}-0");
        await live.WaitForCountAsync(1);

        await server.StopAsync();

        // Publisher: a precise exception, never a silent drop.
        var ex = await Assert.ThrowsAsync<SseStoreUnavailableException>(() => host.Publisher.PublishAsync("s", "e", "during"));
        Assert.Contains("was not published", ex.Message, StringComparison.Ordinal);

        // The live connection is closed (the client reconnects after its retry interval) ...
        await live.Completion.WaitAsync(TimeSpan.FromSeconds(20));

        // ... and a new one gets 200 with a retry field and an explanation, then the end of the response.
        using var response = await host.Client.GetAsync("/events/s");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("retry: 200", body, StringComparison.Ordinal);
        Assert.Contains("event store unavailable", body, StringComparison.Ordinal);

        await server.RestartAsync(); // data is gone: a new epoch

        SseEvent? after = null;
        for (var i = 0; i < 100 && after is null; i++)
        {
            try
            {
                after = await host.Publisher.PublishAsync("s", "e", "after");
            }
            catch (SseStoreUnavailableException)
            {
                await Task.Delay(100);
            }
        }

        Assert.NotNull(after);
        Assert.NotEqual(before.Epoch, after.Epoch);
        await using var back = await host.ConnectAsync("s", live.LastEventId);
        var items = await back.WaitForCountAsync(1);
        Assert.Equal("reset", items[0].EventType);
        Assert.Equal("epoch", JsonDocument.Parse(items[0].Data).RootElement.GetProperty("reason").GetString());
        var next = await host.Publisher.PublishAsync("s", "e", "live again");
        items = await back.WaitForCountAsync(2);
        Assert.Equal(next.Id.ToString(), items[1].EventId);
    }
}
