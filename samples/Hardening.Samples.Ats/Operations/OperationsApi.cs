using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Samples.Ats.Operations;

/// <summary>
/// Health and operator endpoints: <c>/health/live</c> and <c>/health/ready</c> are public and answer only a status;
/// the readiness detail, <c>/diagnostics</c> and <c>/metrics</c> need the <see cref="OperatorPolicy"/>.
/// </summary>
internal static class OperationsApi
{
    public const string OperatorPolicy = "operator";

    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => Results.Ok(new { status = "Healthy" })).AllowAnonymous().WithTags("Operations");
        app.MapGet("/health/ready", async (HealthCheckService health, CancellationToken ct) =>
        {
            var report = await health.CheckHealthAsync(c => c.Tags.Contains("ready"), ct);
            var status = report.Status.ToString();
            return report.Status == HealthStatus.Unhealthy
                ? Results.Json(new { status }, statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Ok(new { status });
        }).AllowAnonymous().WithTags("Operations");

        // The package's detailed pages (pool sizes, versions, check data) for operators only.
        app.MapHardeningHealthChecks("/health/detail/live", "/health/detail/ready").RequireAuthorization(OperatorPolicy);
        app.MapHardeningDiagnostics("/diagnostics").RequireAuthorization(OperatorPolicy);
        app.MapHardeningMetrics("/metrics").RequireAuthorization(OperatorPolicy);
        return app;
    }
}
