using System.Text.Json;
using Hardening.Sse;

namespace Hardening.Samples.Ats;

/// <summary>
/// Live application-status updates for the ATS: POST a status change, watch it on /events/tenant-{id}/applications.
/// Uses Redis (HARDENING_REDIS) when set, so several sample instances share one ordered stream.
/// </summary>
public static class SseSample
{
    /// <summary>Registers Hardening.Sse.</summary>
    public static WebApplicationBuilder AddSseSample(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHardeningSse(o => o.UseRedis = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("HARDENING_REDIS")));
        builder.Services.AddHealthChecks().AddHardeningSseStoreCheck();
        return builder;
    }

    /// <summary>Maps the event stream, the browser module and a demo publish endpoint.</summary>
    public static WebApplication MapSseSample(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Demo tenant scoping: the caller names its tenant in the X-Tenant header (a real app uses its auth claims).
        // EventSource cannot set headers, so the sample also accepts ?tenant= for the browser.
        app.MapServerSentEvents("/events/{**stream}", o => o.Authorize = (http, stream) =>
        {
            var tenant = http.Request.Headers["X-Tenant"].FirstOrDefault() ?? http.Request.Query["tenant"].FirstOrDefault();
            return ValueTask.FromResult(
                string.IsNullOrEmpty(tenant) ? SseAccess.Unauthenticated
                : stream.StartsWith($"tenant-{tenant}/", StringComparison.Ordinal) ? SseAccess.Allow
                : SseAccess.Forbid);
        });
        app.MapServerSentEventsClient("/hardening-sse.js");

        app.MapPost("/tenants/{tenant}/applications/{id}/status/{status}", async (string tenant, string id, string status, SsePublisher sse, CancellationToken ct) =>
        {
            try
            {
                var e = await sse.PublishAsync($"tenant-{tenant}/applications", "status-changed",
                    JsonSerializer.Serialize(new { application = id, status }), ct);
                return Results.Ok(new { eventId = e.Id.ToString() });
            }
            catch (ArgumentException ex)
            {
                return Results.BadRequest(new { error = ex.Message });
            }
            catch (SseStoreUnavailableException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });
        return app;
    }
}
