using System.Net;
using System.Text;
using System.Text.Json;
using Hardening.Sse.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Hardening.Sse.Tests.Endpoints;

public sealed class SseEndpointTests
{
    [Fact]
    public async Task Response_has_event_stream_headers_and_a_retry_field()
    {
        await using var host = await SseTestHost.StartAsync(o => o.ReconnectionInterval = TimeSpan.FromMilliseconds(1234));
        await using var c = await host.ConnectAsync("tenant-1/apps");
        Assert.Equal(HttpStatusCode.OK, c.Status);
        Assert.Equal("text/event-stream", c.Response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-cache", c.Response.Headers.CacheControl!.ToString());
        Assert.Equal("no", c.Response.Headers.GetValues("X-Accel-Buffering").Single());
    }

    [Fact]
    public async Task Live_events_arrive_in_order_with_epoch_sequence_ids()
    {
        await using var host = await SseTestHost.StartAsync();
        await using var c = await host.ConnectAsync("s");
        var published = new List<SseEvent>();
        for (var i = 0; i < 20; i++)
        {
            published.Add(await host.Publisher.PublishAsync("s", "changed", $"{{\"n\":{i}}}"));
        }

        var items = await c.WaitForCountAsync(20);
        Assert.Equal(published.Select(p => p.Id.ToString()), items.Select(i => i.EventId));
        Assert.Equal(published.Select(p => p.Data), items.Select(i => i.Data));
        Assert.All(items, i => Assert.Equal("changed", i.EventType));
        Assert.Equal(Enumerable.Range(1, 20).Select(n => (long)n), published.Select(p => p.Sequence));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reconnect_with_last_event_id_replays_exactly_the_missed_events(bool viaQuery)
    {
        await using var host = await SseTestHost.StartAsync();
        var events = new List<SseEvent>();
        for (var i = 0; i < 10; i++)
        {
            events.Add(await host.Publisher.PublishAsync("s", "e", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        await using var c = await host.ConnectAsync("s", events[3].Id.ToString(), viaQuery);
        var items = await c.WaitForCountAsync(6);
        Assert.Equal(events.Skip(4).Select(e => e.Id.ToString()), items.Select(i => i.EventId));

        await host.Publisher.PublishAsync("s", "e", "live");
        items = await c.WaitForCountAsync(7);
        Assert.Equal("live", items[6].Data);
        Assert.Equal(7, items.Count);
    }

    [Fact]
    public async Task Header_wins_over_query_when_both_are_sent()
    {
        await using var host = await SseTestHost.StartAsync();
        var e1 = await host.Publisher.PublishAsync("s", "e", "1");
        var e2 = await host.Publisher.PublishAsync("s", "e", "2");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/events/s?lastEventId={e2.Id}");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", e1.Id.ToString());
        using var response = await host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        while (!text.ToString().Contains($"id: {e2.Id}", StringComparison.Ordinal))
        {
            text.AppendLine(await reader.ReadLineAsync());
        }

        Assert.DoesNotContain($"id: {e1.Id}\n", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_position_oldest_retained_replays_the_log_to_new_clients()
    {
        await using var host = await SseTestHost.StartAsync(o => o.RetentionCount = 5, e => e.StartPosition = SseStartPosition.OldestRetained);
        for (var i = 0; i < 8; i++)
        {
            await host.Publisher.PublishAsync("s", "e", "x");
        }

        await using var c = await host.ConnectAsync("s");
        var items = await c.WaitForCountAsync(5);
        Assert.Equal([4L, 5, 6, 7, 8], items.Select(i => SseEventIdOf(i.EventId).Sequence));
    }

    [Fact]
    public async Task Id_older_than_retention_gets_one_reset_then_live_events()
    {
        await using var host = await SseTestHost.StartAsync(o => o.RetentionCount = 3);
        var first = await host.Publisher.PublishAsync("s", "e", "1");
        for (var i = 0; i < 5; i++)
        {
            await host.Publisher.PublishAsync("s", "e", "x");
        }

        await using var c = await host.ConnectAsync("s", first.Id.ToString());
        var items = await c.WaitForCountAsync(1);
        Assert.Equal("reset", items[0].EventType);
        Assert.Equal($"{first.Epoch}-6", items[0].EventId);
        Assert.Equal("retention", JsonDocument.Parse(items[0].Data).RootElement.GetProperty("reason").GetString());

        await host.Publisher.PublishAsync("s", "e", "after");
        items = await c.WaitForCountAsync(2);
        Assert.Equal($"{first.Epoch}-7", items[1].EventId);
        Assert.Single(items, i => i.EventType == "reset");
    }

    [Fact]
    public async Task Id_exactly_at_the_retention_edge_is_replayed_without_reset()
    {
        await using var host = await SseTestHost.StartAsync(o => o.RetentionCount = 3);
        var all = new List<SseEvent>();
        for (var i = 0; i < 6; i++)
        {
            all.Add(await host.Publisher.PublishAsync("s", "e", "x"));
        }

        // retained: 4, 5, 6; a client at 3 has missed nothing that is gone
        await using var c = await host.ConnectAsync("s", all[2].Id.ToString());
        var items = await c.WaitForCountAsync(3);
        Assert.Equal([4L, 5, 6], items.Select(i => SseEventIdOf(i.EventId).Sequence));
        Assert.DoesNotContain(items, i => i.EventType == "reset");
    }

    [Fact]
    public async Task Id_older_than_the_retention_age_gets_a_reset()
    {
        var clock = new FakeTimeProvider();
        await using var host = await SseTestHost.StartAsync(o => o.RetentionAge = TimeSpan.FromMinutes(5), time: clock);
        var old = await host.Publisher.PublishAsync("s", "e", "old");
        await host.Publisher.PublishAsync("s", "e", "old2");
        clock.Advance(TimeSpan.FromMinutes(6));
        await using var c = await host.ConnectAsync("s", old.Id.ToString());
        var items = await c.WaitForCountAsync(1);
        Assert.Equal("reset", items[0].EventType);
        Assert.Equal($"{old.Epoch}-2", items[0].EventId);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("abc-")]
    [InlineData("-5")]
    [InlineData("abc-12x")]
    [InlineData("abc-99999999999999999999999")]
    [InlineData("ab c-1")]
    [InlineData("\u00e9\u00e9-1")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789-1")]
    public async Task Malformed_last_event_id_gets_a_reset_never_a_500(string lastEventId)
    {
        await using var host = await SseTestHost.StartAsync();
        var e = await host.Publisher.PublishAsync("s", "e", "1");
        await using var c = await host.ConnectAsync("s", lastEventId, viaQuery: true);
        Assert.Equal(HttpStatusCode.OK, c.Status);
        var items = await c.WaitForCountAsync(1);
        Assert.Equal("reset", items[0].EventType);
        Assert.Equal(e.Id.ToString(), items[0].EventId);
        Assert.Equal("invalid-id", JsonDocument.Parse(items[0].Data).RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Id_from_another_epoch_gets_a_reset()
    {
        await using var host = await SseTestHost.StartAsync();
        var e = await host.Publisher.PublishAsync("s", "e", "1");
        await using var c = await host.ConnectAsync("s", "0000otherepoch-1");
        var items = await c.WaitForCountAsync(1);
        Assert.Equal("reset", items[0].EventType);
        Assert.Equal("epoch", JsonDocument.Parse(items[0].Data).RootElement.GetProperty("reason").GetString());
        Assert.Equal(e.Id.ToString(), items[0].EventId);
    }

    [Fact]
    public async Task Id_ahead_of_the_stream_gets_a_reset()
    {
        await using var host = await SseTestHost.StartAsync();
        var e = await host.Publisher.PublishAsync("s", "e", "1");
        await using var c = await host.ConnectAsync("s", $"{e.Epoch}-50");
        var items = await c.WaitForCountAsync(1);
        Assert.Equal("ahead", JsonDocument.Parse(items[0].Data).RootElement.GetProperty("reason").GetString());
        await host.Publisher.PublishAsync("s", "e", "2");
        items = await c.WaitForCountAsync(2);
        Assert.Equal($"{e.Epoch}-2", items[1].EventId);
    }

    [Theory]
    [InlineData("bad%20name")]
    [InlineData("a%0Ab")]
    [InlineData("a%7Bb%7D")]
    public async Task Invalid_stream_names_get_400(string stream)
    {
        await using var host = await SseTestHost.StartAsync();
        using var response = await host.Client.GetAsync("/events/" + stream);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("stream name", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SseAccess.Forbid, HttpStatusCode.Forbidden)]
    [InlineData(SseAccess.Unauthenticated, HttpStatusCode.Unauthorized)]
    [InlineData(SseAccess.StopReconnecting, HttpStatusCode.NoContent)]
    public async Task Authorization_callback_decides_per_stream(SseAccess denied, HttpStatusCode expected)
    {
        await using var host = await SseTestHost.StartAsync(endpoint: o => o.Authorize = (http, stream) =>
            ValueTask.FromResult(stream.StartsWith($"tenant-{http.Request.Headers["X-Tenant"]}/", StringComparison.Ordinal) ? SseAccess.Allow : denied));
        await host.Publisher.PublishAsync("tenant-2/apps", "e", "secret");

        using var other = new HttpRequestMessage(HttpMethod.Get, "/events/tenant-2/apps");
        other.Headers.Add("X-Tenant", "1");
        using var refused = await host.Client.SendAsync(other);
        Assert.Equal(expected, refused.StatusCode);
        Assert.Empty(await refused.Content.ReadAsByteArrayAsync());

        using var own = new HttpRequestMessage(HttpMethod.Get, "/events/tenant-1/apps");
        own.Headers.Add("X-Tenant", "1");
        using var allowed = await host.Client.SendAsync(own, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public void Endpoint_without_an_authorization_callback_fails_at_startup()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddHardeningSse();
        using var app = builder.Build();
        var ex = Assert.Throws<InvalidOperationException>(() => app.MapServerSentEvents("/events/{**stream}", new SseEndpointOptions()));
        Assert.Contains("Authorize", ex.Message, StringComparison.Ordinal);
        var ex2 = Assert.Throws<InvalidOperationException>(() => app.MapServerSentEvents("/events", o => o.Authorize = (_, _) => ValueTask.FromResult(SseAccess.Allow)));
        Assert.Contains("{stream}", ex2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Endpoint_without_AddHardeningSse_fails_at_startup()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        using var app = builder.Build();
        var ex = Assert.Throws<InvalidOperationException>(() => app.MapServerSentEvents("/events/{**stream}", o => o.Authorize = (_, _) => ValueTask.FromResult(SseAccess.Allow)));
        Assert.Contains("AddHardeningSse", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_comments_follow_the_time_provider()
    {
        var clock = new FakeTimeProvider();
        await using var host = await SseTestHost.StartAsync(time: clock);
        using var response = await host.Client.GetAsync("/events/s", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1024];
        var first = Encoding.UTF8.GetString(buffer, 0, await body.ReadAsync(buffer));
        Assert.DoesNotContain("heartbeat", first, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromSeconds(14));
        clock.Advance(TimeSpan.FromSeconds(1));
        var text = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!text.ToString().Contains(": heartbeat\n\n", StringComparison.Ordinal))
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, await body.ReadAsync(buffer, timeout.Token)));
        }
    }

    [Fact]
    public async Task Slow_consumer_is_disconnected_with_a_reason_and_resumes_without_loss()
    {
        await using var host = await SseTestHost.StartAsync(o => o.SubscriberQueueCapacity = 4, kestrel: false);
        var session = new Hardening.Sse.SseSession(
            host.App.Services.GetRequiredService<Hardening.Sse.ISseStore>(), "slow",
            host.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SseOptions>>().Value,
            host.App.Services.GetRequiredService<SseMetrics>(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var slowConsumerDisconnects = new MetricCollector<long>(host.App.Services.GetRequiredService<SseMetrics>().Meter, SseMeters.SlowConsumerDisconnects);

        // A writer that never drains: the session blocks on its first flush while events keep coming.
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var run = session.RunAsync(pipe.Writer, null, SseStartPosition.Now, CancellationToken.None);
        await Task.Delay(50);
        for (var i = 0; i < 10; i++)
        {
            await host.Publisher.PublishAsync("slow", "e", "x");
        }

        // Now drain: the session must notice the overflow and end with a comment saying why.
        var text = new StringBuilder();
        while (!text.ToString().Contains("slow consumer", StringComparison.Ordinal))
        {
            var read = await pipe.Reader.ReadAsync();
            text.Append(Encoding.UTF8.GetString(read.Buffer));
            pipe.Reader.AdvanceTo(read.Buffer.End);
        }

        Assert.Equal(SseSessionEnd.SlowConsumer, await run);
        Assert.Contains("slow consumer", text.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, slowConsumerDisconnects.Sum());

        // The client comes back with its last id and gets every event once.
        await using var c = await host.ConnectAsync("slow", $"{session.Cursor}");
        var items = await c.WaitForCountAsync(10 - (int)session.Cursor.Sequence);
        Assert.Equal(Enumerable.Range((int)session.Cursor.Sequence + 1, 10 - (int)session.Cursor.Sequence).Select(n => (long)n), items.Select(i => SseEventIdOf(i.EventId).Sequence));
    }

    [Fact]
    public async Task Metrics_count_connections_published_delivered_replayed_and_resets()
    {
        await using var host = await SseTestHost.StartAsync(o => o.RetentionCount = 2);
        var meter = host.App.Services.GetRequiredService<SseMetrics>().Meter;
        using var connections = new MetricCollector<long>(meter, SseMeters.Connections);
        using var published = new MetricCollector<long>(meter, SseMeters.EventsPublished);
        using var delivered = new MetricCollector<long>(meter, SseMeters.EventsDelivered);
        using var replayed = new MetricCollector<long>(meter, SseMeters.EventsReplayed);
        using var resets = new MetricCollector<long>(meter, SseMeters.Resets);
        using var deliveryLag = new MetricCollector<double>(meter, SseMeters.DeliveryLag);
        var e1 = await host.Publisher.PublishAsync("m", "e", "1");
        await host.Publisher.PublishAsync("m", "e", "2");
        await using (var c = await host.ConnectAsync("m", e1.Id.ToString()))
        {
            await c.WaitForCountAsync(1);
            await host.Publisher.PublishAsync("m", "e", "3");
            await c.WaitForCountAsync(2);
            Assert.Equal(1, connections.Sum());
        }

        await host.Publisher.PublishAsync("m", "e", "4");
        await using (var c = await host.ConnectAsync("m", e1.Id.ToString()))
        {
            await c.WaitForCountAsync(1); // reset: 2 is gone (3 and 4 are retained)
        }

        await WaitAsync(() => connections.Sum() == 0);
        Assert.Equal(4, published.Sum());
        Assert.Equal(2, delivered.Sum());
        Assert.Equal(1, replayed.Sum());
        Assert.Equal(1, resets.Sum("reason", "retention"));
        Assert.Single(deliveryLag.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Browser_client_module_is_served_as_javascript_with_an_etag()
    {
        await using var host = await SseTestHost.StartAsync();
        using var response = await host.Client.GetAsync("/hardening-sse.js");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("export function connect", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/hardening-sse.js");
        again.Headers.TryAddWithoutValidation("If-None-Match", response.Headers.ETag!.ToString());
        using var notModified = await host.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    internal static SseEventId SseEventIdOf(string? id) => SseEventId.TryParse(id, out var parsed) ? parsed : throw new FormatException($"Bad id '{id}'.");

    private static async Task WaitAsync(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
