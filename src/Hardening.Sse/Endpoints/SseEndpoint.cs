using System.Buffers;
using Hardening.Sse;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hardening.Sse;

/// <summary>The request handler behind <c>MapServerSentEvents</c>.</summary>
internal sealed class SseEndpoint
{
    private readonly SseEndpointOptions _endpoint;
    private readonly Func<HttpContext, string, ValueTask<SseAccess>> _authorize;
    private readonly ISseStore _store;
    private readonly SseOptions _options;
    private readonly SseMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime? _lifetime;

    public SseEndpoint(SseEndpointOptions endpoint, ISseStore store, IOptions<SseOptions> options, SseMetrics metrics, TimeProvider time, ILoggerFactory loggers, IHostApplicationLifetime? lifetime)
    {
        _endpoint = endpoint;
        _authorize = endpoint.Authorize!;
        _store = store;
        _options = options.Value;
        _metrics = metrics;
        _time = time;
        _logger = loggers.CreateLogger("Hardening.Sse");
        _lifetime = lifetime;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var stream = context.Request.RouteValues.TryGetValue(_endpoint.StreamRouteValue, out var value) ? value?.ToString() : null;
        if (SseStreamName.Problem(stream) is { } problem)
        {
            SseLog.InvalidStreamName(_logger, problem);
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"Invalid stream: {problem}.", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var access = await _authorize(context, stream!).ConfigureAwait(false);
        if (access != SseAccess.Allow)
        {
            SseLog.AccessDenied(_logger, stream!, access);
            context.Response.StatusCode = access switch
            {
                SseAccess.Unauthenticated => StatusCodes.Status401Unauthorized,
                SseAccess.StopReconnecting => StatusCodes.Status204NoContent,
                _ => StatusCodes.Status403Forbidden,
            };
            return;
        }

        var headers = context.Request.Headers;
        string? lastEventId = headers.TryGetValue("Last-Event-ID", out var h) && h.Count > 0 ? h[0]
            : context.Request.Query.TryGetValue("lastEventId", out var q) && q.Count > 0 ? q[0]
            : null;

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var stop = _lifetime is null
            ? CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted)
            : CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _lifetime.ApplicationStopping);
        var session = new SseSession(_store, stream!, _options, _metrics, _time, _logger);
        _metrics.ConnectionOpened();
        try
        {
            await session.RunAsync(response.BodyWriter, lastEventId, _endpoint.StartPosition, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client went away or the app is stopping; the client reconnects with its Last-Event-ID.
        }
        catch (Exception ex) when (SseStoreFailure.IsStoreFailure(ex))
        {
            SseLog.StoreUnavailable(_logger, stream!, ex);
            if (!stop.IsCancellationRequested)
            {
                // EventSource gives up on any status but 200, so "retry later" is a 200 with a retry field and an end.
                response.BodyWriter.Write(SseFrames.Retry(_options.ReconnectionInterval));
                response.BodyWriter.Write(SseFrames.Comment("event store unavailable; retry later"));
                await response.BodyWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // Writing to a connection that just closed.
        }
        finally
        {
            _metrics.ConnectionClosed();
        }
    }
}
