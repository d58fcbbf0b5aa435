// Usage: dotnet Hardening.Sse.TestHost.dll --urls http://127.0.0.1:<port> --Redis <host:port> [--Prefix sse:]
// GET /events/{stream} streams events (everyone may read: this is a test host); POST /publish/{stream} publishes the
// request body and answers with the event id once it is in Redis; GET /ready answers when the host is up.
using Hardening.Sse;
using StackExchange.Redis;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var redis = builder.Configuration["Redis"] ?? Environment.GetEnvironmentVariable("HARDENING_REDIS")
    ?? throw new InvalidOperationException("Pass --Redis <host:port> (or set HARDENING_REDIS).");
var redisOptions = ConfigurationOptions.Parse(redis);
redisOptions.AbortOnConnectFail = false;
redisOptions.BacklogPolicy = BacklogPolicy.FailFast;
builder.Services.AddSingleton<IConnectionMultiplexer>(ConnectionMultiplexer.Connect(redisOptions));
builder.Services.AddHardeningSse(o =>
{
    o.UseRedis = true;
    o.RedisKeyPrefix = builder.Configuration["Prefix"] ?? "sse:";
    o.ReconnectionInterval = TimeSpan.FromMilliseconds(100);
});

var app = builder.Build();
app.MapGet("/ready", () => "ready");
app.MapServerSentEvents("/events/{**stream}", o => o.Authorize = (_, _) => ValueTask.FromResult(SseAccess.Allow));
app.MapPost("/publish/{**stream}", async (string stream, HttpRequest request, SsePublisher publisher) =>
{
    using var reader = new StreamReader(request.Body);
    var published = await publisher.PublishAsync(stream, "changed", await reader.ReadToEndAsync());
    return Results.Text(published.Id.ToString());
});
app.Run();
