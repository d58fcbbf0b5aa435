using Hardening.Redis;

namespace Hardening.Samples.Ats;

/// <summary>
/// The shared Hardening.Redis connection of the sample ATS (env HARDENING_REDIS, <c>host:port</c>): a health endpoint
/// and a tiny per-candidate view counter, plus a stream of recent pipeline events.
/// </summary>
public static class RedisSample
{
    /// <summary>Registers the one multiplexed <see cref="RedisConnection"/> the other packages share.</summary>
    public static WebApplicationBuilder AddRedisSample(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var endpoint = Environment.GetEnvironmentVariable("HARDENING_REDIS") ?? "localhost:6379";

        // abortConnect=false: the app starts even if Redis is not up yet; commands fail fast until it is.
        builder.Services.AddHardeningRedis($"{endpoint},name=hardening-sample-ats,abortConnect=false");
        return builder;
    }

    /// <summary>Maps <c>GET /redis/health</c>, <c>POST /redis/candidates/{id}/views</c> and <c>GET /redis/events</c>.</summary>
    public static WebApplication MapRedisSample(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapGet("/redis/health", async (RedisConnection redis, CancellationToken ct) =>
        {
            var health = await redis.CheckHealthAsync(ct);
            var body = new { state = health.State.ToString(), roundTripMs = health.RoundTrip?.TotalMilliseconds, error = health.Error };
            return health.IsHealthy ? Results.Ok(body) : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        });

        app.MapPost("/redis/candidates/{id:long}/views", async (long id, RedisConnection redis, CancellationToken ct) =>
        {
            try
            {
                var views = await redis.IncrementAsync($"ats:candidate:{id}:views", 1, ct);
                await redis.StreamAddAsync("ats:events", "*", [new("candidate", id), new("event", "viewed")], RedisStreamTrim.ToMaxLength(1000), ct);
                return Results.Ok(new { candidate = id, views });
            }
            catch (RedisConnectionException)
            {
                return Results.Problem("Redis is unavailable; try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        app.MapGet("/redis/events", async (RedisConnection redis, CancellationToken ct) =>
        {
            var entries = await redis.StreamReverseRangeAsync("ats:events", count: 20, cancellationToken: ct);
            return Results.Ok(entries.Select(e => new
            {
                id = e.Id,
                fields = e.Fields.ToDictionary(f => f.Key, f => System.Text.Encoding.UTF8.GetString(f.Value)),
            }));
        });

        return app;
    }
}
