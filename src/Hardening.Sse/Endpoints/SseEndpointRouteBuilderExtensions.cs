using Hardening.Sse;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Server-Sent Events endpoints and the browser client.</summary>
public static class SseEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a GET endpoint that streams one stream's events: replay after the client's <c>Last-Event-ID</c> header
    /// (or <c>lastEventId</c> query value), then live events, with heartbeats, in order and without duplicates.
    /// Requires <c>services.AddHardeningSse()</c>.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">A route pattern holding the stream route value, e.g. <c>/events/{**stream}</c>.</param>
    /// <param name="options">The endpoint's settings; <see cref="SseEndpointOptions.Authorize"/> is required.</param>
    /// <returns>The endpoint builder, for <c>RequireAuthorization</c>, <c>RequireCors</c> and the like.</returns>
    /// <example>
    /// <code>
    /// app.MapServerSentEvents("/events/{**stream}", new SseEndpointOptions
    /// {
    ///     // tenant scoping: a user reads only the streams of their tenant
    ///     Authorize = (http, stream) =&gt; ValueTask.FromResult(
    ///         stream.StartsWith($"tenant-{http.User.FindFirst("tenant")?.Value}/", StringComparison.Ordinal)
    ///             ? SseAccess.Allow : SseAccess.Forbid),
    /// }).RequireAuthorization();
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapServerSentEvents(this IEndpointRouteBuilder endpoints, string pattern, SseEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Authorize is null)
        {
            throw new InvalidOperationException($"MapServerSentEvents(\"{pattern}\"): SseEndpointOptions.Authorize is not set. Say which streams a caller may read (tenant scoping); to serve every stream to everyone, set it to (_, _) => ValueTask.FromResult(SseAccess.Allow) explicitly.");
        }

        ArgumentException.ThrowIfNullOrEmpty(options.StreamRouteValue);
        var parsed = RoutePatternFactory.Parse(pattern);
        if (parsed.GetParameter(options.StreamRouteValue) is null)
        {
            throw new InvalidOperationException($"MapServerSentEvents(\"{pattern}\"): the pattern has no '{{{options.StreamRouteValue}}}' route value to name the stream; use e.g. \"/events/{{**{options.StreamRouteValue}}}\" or set SseEndpointOptions.StreamRouteValue.");
        }

        var services = endpoints.ServiceProvider;
        var store = services.GetService<ISseStore>()
            ?? throw new InvalidOperationException("MapServerSentEvents needs services.AddHardeningSse() in the service registrations.");
        var frozen = new SseEndpointOptions { Authorize = options.Authorize, StreamRouteValue = options.StreamRouteValue, StartPosition = options.StartPosition };
        var endpoint = new SseEndpoint(frozen, store, services.GetRequiredService<IOptions<SseOptions>>(), services.GetRequiredService<SseMetrics>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILoggerFactory>(), services.GetService<IHostApplicationLifetime>());
        return endpoints.MapGet(pattern, (RequestDelegate)endpoint.HandleAsync).WithDisplayName($"Server-Sent Events {pattern}");
    }

    /// <summary>Maps a Server-Sent Events endpoint configured by <paramref name="configure"/>; see the other overload.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">A route pattern holding the stream route value, e.g. <c>/events/{**stream}</c>.</param>
    /// <param name="configure">Sets the endpoint's options; <see cref="SseEndpointOptions.Authorize"/> is required.</param>
    /// <returns>The endpoint builder.</returns>
    public static IEndpointConventionBuilder MapServerSentEvents(this IEndpointRouteBuilder endpoints, string pattern, Action<SseEndpointOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new SseEndpointOptions();
        configure(options);
        return endpoints.MapServerSentEvents(pattern, options);
    }

    /// <summary>
    /// Serves the browser client, an ES module (<c>import { connect } from "/hardening-sse.js"</c>) that wraps
    /// <c>EventSource</c>, drops duplicate ids, detects gaps and resets and asks the page to re-sync.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">Where to serve it. Default <c>/hardening-sse.js</c>.</param>
    /// <returns>The endpoint builder.</returns>
    public static IEndpointConventionBuilder MapServerSentEventsClient(this IEndpointRouteBuilder endpoints, string pattern = "/hardening-sse.js")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var script = SseClientScript.Bytes;
        var etag = SseClientScript.ETag;
        return endpoints.MapGet(pattern, (HttpContext context) =>
        {
            context.Response.Headers.ETag = etag;
            context.Response.Headers.CacheControl = "public, max-age=3600";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            if (context.Request.Headers.IfNoneMatch == etag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            context.Response.ContentType = "text/javascript; charset=utf-8";
            return context.Response.Body.WriteAsync(script).AsTask();
        }).WithDisplayName("Hardening.Sse browser client");
    }
}
