using StackExchange.Redis;

namespace Hardening.Samples.Ats;

/// <summary>
/// The sample ATS's one Redis connection (env HARDENING_REDIS, <c>host:port</c>): a StackExchange.Redis multiplexer
/// registered once, which the replay guard, the login throttle, the SSE store and the readiness check all share.
/// </summary>
public static class RedisSample
{
    /// <summary>Registers the app's <see cref="IConnectionMultiplexer"/> with the settings the packages recommend.</summary>
    public static WebApplicationBuilder AddRedisSample(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var endpoint = Environment.GetEnvironmentVariable("HARDENING_REDIS");
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return builder;
        }

        var options = ConfigurationOptions.Parse(endpoint);
        options.ClientName = "hardening-sample-ats";
        options.AbortOnConnectFail = false;           // start even if Redis is not up yet
        options.BacklogPolicy = BacklogPolicy.FailFast; // fail (closed) at once while disconnected instead of queueing
        options.ConnectTimeout = options.SyncTimeout = options.AsyncTimeout = 2000;
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        return builder;
    }

    /// <summary>Maps <c>POST /redis/candidates/{id}/views</c>: a per-candidate view counter on the shared multiplexer.</summary>
    public static WebApplication MapRedisSample(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/redis/candidates/{id:long}/views", async (long id, IConnectionMultiplexer redis) =>
        {
            try
            {
                var views = await redis.GetDatabase().StringIncrementAsync($"ats:candidate:{id}:views");
                return Results.Ok(new { candidate = id, views });
            }
            catch (RedisException)
            {
                return Results.Problem("Redis is unavailable; try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        return app;
    }
}
