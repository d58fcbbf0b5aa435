using Hardening.Samples.Ats.Accounts;
using Hardening.Sse;

namespace Hardening.Samples.Ats.Live;

/// <summary>
/// <c>GET /api/events</c>: the caller's tenant stream, chosen from the access token only (never a header or the
/// query), with Last-Event-ID replay by Hardening.Sse; and the package's browser client.
/// </summary>
internal static class LiveApi
{
    public static IEndpointRouteBuilder MapLiveApi(this IEndpointRouteBuilder app)
    {
        // The package names the stream from a route value; the wrapper below overwrites it with the caller's stream, so
        // whatever a client puts after /api/events/ is ignored.
        app.MapServerSentEvents("/api/events/{**stream}", new SseEndpointOptions
        {
            Authorize = (http, stream) => ValueTask.FromResult(
                Caller.From(http.User) is not { } who ? SseAccess.Unauthenticated
                : stream == Outbox.StreamOf(who.TenantId) ? SseAccess.Allow
                : SseAccess.Forbid),
        })
        .Add(endpoint =>
        {
            // The stream is the caller's tenant stream: set it from the token before the SSE endpoint reads it.
            var inner = endpoint.RequestDelegate!;
            endpoint.RequestDelegate = http =>
            {
                if (Caller.From(http.User) is { } who)
                {
                    http.Request.RouteValues["stream"] = Outbox.StreamOf(who.TenantId);
                }

                return inner(http);
            };
        });
        app.MapServerSentEventsClient("/hardening-sse.js").AllowAnonymous();
        return app;
    }
}
