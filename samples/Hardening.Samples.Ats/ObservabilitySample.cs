using System.Diagnostics;
using System.Net;
using Hardening.Observability;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Hardening.Samples.Ats;

/// <summary>
/// Wires Hardening.Observability into the sample ATS: metric presets, <c>/metrics</c>, <c>/health/live</c>,
/// <c>/health/ready</c> (PostgreSQL from HARDENING_PG, plus the checks of the other packages) and <c>/diagnostics</c>.
/// The sample has no login, so the scrape and diagnosis endpoints use the authorization hook to allow loopback callers only.
/// </summary>
public static class ObservabilitySample
{
    /// <summary>Registers the observability services.</summary>
    public static WebApplicationBuilder AddObservabilitySample(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        static ValueTask<bool> LoopbackOnly(HttpContext context) =>
            ValueTask.FromResult(context.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip));

        var checks = builder.Services.AddHardeningObservability(o =>
        {
            o.Prometheus.Authorize = LoopbackOnly;
            o.Diagnostics.Authorize = LoopbackOnly;
            o.TenantUsage.Enabled = true;
            o.TenantUsage.MaxTenants = 50;
        });

        var pg = Environment.GetEnvironmentVariable("HARDENING_PG");
        if (!string.IsNullOrWhiteSpace(pg))
        {
            // One data source for the whole app; the readiness check borrows from its pool.
            builder.Services.TryAddSingleton(_ => NpgsqlDataSource.Create(pg));
            checks.AddHardeningPostgreSqlCheck();
        }

        // The Rls lint, the token replay store and the SSE store checks are added by their own packages, where those
        // are registered (RlsSample, TokensSample, SseSample): each check runs once, on the same AddHealthChecks() builder.

        return builder;
    }

    /// <summary>Maps the endpoints and a demo route that records ingestion metrics.</summary>
    public static WebApplication MapObservabilitySample(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHardeningMetrics("/metrics");
        app.MapHardeningHealthChecks();
        app.MapHardeningDiagnostics("/diagnostics");

        var pending = 0L;
        app.Services.GetRequiredService<IngestionTelemetry>().TrackQueue("resumes", () => Interlocked.Read(ref pending));

        // POST /demo/resumes?tenant=acme simulates one résumé going through ingestion.
        app.MapPost("/demo/resumes", async (string? tenant, IngestionTelemetry ingestion, TenantUsageTelemetry usage) =>
        {
            Interlocked.Increment(ref pending);
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(Random.Shared.Next(50, 400));
            var scanned = Random.Shared.Next(0, 4) == 0;
            if (scanned)
            {
                ingestion.RecordOcrFallback();
            }

            ingestion.RecordParseDuration(Stopwatch.GetElapsedTime(started));
            ingestion.RecordProcessed();
            Interlocked.Decrement(ref pending);
            if (Random.Shared.Next(0, 20) == 0)
            {
                ingestion.RecordFailure(scanned ? IngestionFailureReason.OcrFailed : IngestionFailureReason.Corrupt);
                return Results.UnprocessableEntity(new { error = "The résumé could not be parsed." });
            }

            usage.RecordResumesIngested(string.IsNullOrWhiteSpace(tenant) ? "demo" : tenant);
            return Results.Accepted();
        });
        return app;
    }
}
