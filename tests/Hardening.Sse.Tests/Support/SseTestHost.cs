using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hardening.Sse.Tests.Support;

/// <summary>An in-process app with AddHardeningSse and one MapServerSentEvents endpoint at /events/{**stream}.</summary>
internal sealed class SseTestHost : IAsyncDisposable
{
    private SseTestHost(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
        Client.Timeout = Timeout.InfiniteTimeSpan;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public SsePublisher Publisher => App.Services.GetRequiredService<SsePublisher>();

    /// <summary>A host whose store is Redis on <paramref name="redis"/> (registered as the app's multiplexer).</summary>
    public static Task<SseTestHost> StartOnRedisAsync(
        StackExchange.Redis.IConnectionMultiplexer redis,
        Action<SseOptions>? configure = null,
        TimeProvider? time = null,
        bool kestrel = false) =>
        StartAsync(o =>
        {
            o.UseRedis = true;
            configure?.Invoke(o);
        }, time: time, kestrel: kestrel, services: s => s.AddSingleton(redis));

    public static async Task<SseTestHost> StartAsync(
        Action<SseOptions>? configure = null,
        Action<SseEndpointOptions>? endpoint = null,
        TimeProvider? time = null,
        bool kestrel = false,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Logging.ClearProviders();
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        services?.Invoke(builder.Services);
        builder.Services.AddHardeningSse(configure);
        var app = builder.Build();
        app.MapServerSentEvents("/events/{**stream}", o =>
        {
            o.Authorize = (_, _) => ValueTask.FromResult(SseAccess.Allow);
            endpoint?.Invoke(o);
        });
        app.MapServerSentEventsClient();
        await app.StartAsync();
        return new SseTestHost(app);
    }

    public Task<SseConnection> ConnectAsync(string stream, string? lastEventId = null, bool viaQuery = false) =>
        SseConnection.OpenAsync(Client, "/events/" + stream, lastEventId, viaQuery);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
