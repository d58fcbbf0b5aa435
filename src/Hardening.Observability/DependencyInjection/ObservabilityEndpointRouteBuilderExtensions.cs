using Hardening.Observability;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Prometheus, health and diagnosis endpoints of Hardening.Observability.</summary>
public static class ObservabilityEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}</c> serving the Prometheus text format. The endpoint is excluded from HTTP metrics and,
    /// unless configured otherwise, requires the app's default authorization policy (see
    /// <see cref="PrometheusExporterOptions.AuthorizationPolicy"/>, <see cref="PrometheusExporterOptions.Authorize"/> and
    /// <see cref="PrometheusExporterOptions.AllowAnonymous"/>). Named apart from OpenTelemetry's
    /// <c>MapPrometheusScrapingEndpoint</c>, so an app that references both compiles without an ambiguous call.
    /// </summary>
    /// <example>
    /// <code>
    /// app.MapHardeningMetrics("/metrics");
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapHardeningMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var services = endpoints.ServiceProvider;
        var exporter = services.GetService<PrometheusExporter>() ?? throw new InvalidOperationException("Call services.AddHardeningObservability() before MapHardeningMetrics().");
        var options = services.GetRequiredService<IOptions<HardeningObservabilityOptions>>().Value.Prometheus;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Hardening.Observability.Prometheus");
        var builder = MapGuardedGet(endpoints, pattern, options.Authorize, logger, async context =>
        {
            context.Response.ContentType = PrometheusExporter.ContentType;
            context.Response.Headers.CacheControl = "no-store";
            await exporter.WriteToAsync(context.Response.BodyWriter, context.RequestAborted).ConfigureAwait(false);
        }).WithDisplayName("Prometheus scrape");

        if (options.Authorize is null && options.AllowAnonymous)
        {
            ObservabilityLog.MetricsEndpointAnonymous(logger, pattern);
            builder.AllowAnonymous();
        }
        else if (options.Authorize is null)
        {
            RequireAuthorization(builder, options.AuthorizationPolicy);
        }

        return builder;
    }

    /// <summary>
    /// Maps <c>/health/live</c> (runs no dependency checks: 200 while the process serves requests) and
    /// <c>/health/ready</c> (runs every check tagged <see cref="HealthCheckNames.ReadyTag"/>; 503 when one is Unhealthy),
    /// both answering with <see cref="HealthResponseWriter"/> JSON and excluded from HTTP metrics. No authorization is
    /// added, since orchestrator probes cannot authenticate: anonymous callers get the status and each check's name and
    /// status; the detail (version, timings, pool numbers) only callers allowed by <see cref="ReadinessOptions.DetailPolicy"/>.
    /// </summary>
    /// <example>
    /// <code>
    /// app.MapHardeningHealthChecks();
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapHardeningHealthChecks(this IEndpointRouteBuilder endpoints, string livenessPattern = "/health/live", string readinessPattern = "/health/ready")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(livenessPattern);
        ArgumentException.ThrowIfNullOrWhiteSpace(readinessPattern);
        var live = endpoints.MapHealthChecks(livenessPattern, new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthResponseWriter.WriteJsonAsync,
        }).DisableHttpMetrics().WithDisplayName("Liveness");
        var ready = endpoints.MapHealthChecks(readinessPattern, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(HealthCheckNames.ReadyTag),
            ResponseWriter = HealthResponseWriter.WriteJsonAsync,
        }).DisableHttpMetrics().WithDisplayName("Readiness");
        return new CompositeConventionBuilder([live, ready]);
    }

    /// <summary>
    /// Maps <c>GET {pattern}</c>: one JSON page with readiness, every exported metric's current value, recent histogram
    /// percentiles and which alert presets would fire now. Always requires authorization: the
    /// <see cref="DiagnosticsOptions.AuthorizationPolicy"/> (default policy when null) or the <see cref="DiagnosticsOptions.Authorize"/> hook.
    /// </summary>
    /// <example>
    /// <code>
    /// app.MapHardeningDiagnostics("/diagnostics");
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapHardeningDiagnostics(this IEndpointRouteBuilder endpoints, string pattern = "/diagnostics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var services = endpoints.ServiceProvider;
        var page = services.GetService<DiagnosisPage>() ?? throw new InvalidOperationException("Call services.AddHardeningObservability() before MapHardeningDiagnostics().");
        var options = services.GetRequiredService<IOptions<HardeningObservabilityOptions>>().Value.Diagnostics;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Hardening.Observability.Diagnostics");
        var builder = MapGuardedGet(endpoints, pattern, options.Authorize, logger, page.WriteAsync).WithDisplayName("Diagnosis");
        if (options.Authorize is null)
        {
            RequireAuthorization(builder, options.AuthorizationPolicy);
        }

        return builder;
    }

    // A GET endpoint excluded from HTTP metrics; with an authorization hook, the hook decides (401 when it says no)
    // and the endpoint itself is anonymous so that the hook is the one gate.
    private static IEndpointConventionBuilder MapGuardedGet(IEndpointRouteBuilder endpoints, string pattern, Func<HttpContext, ValueTask<bool>>? hook, ILogger logger, Func<HttpContext, Task> write)
    {
        var builder = endpoints.MapGet(pattern, async (HttpContext context) =>
        {
            if (hook is not null && !await hook(context).ConfigureAwait(false))
            {
                ObservabilityLog.ScrapeRejected(logger, pattern);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await write(context).ConfigureAwait(false);
        });
        builder.DisableHttpMetrics();
        if (hook is not null)
        {
            builder.AllowAnonymous();
        }

        return builder;
    }

    private static void RequireAuthorization(IEndpointConventionBuilder builder, string? policy)
    {
        if (policy is not null)
        {
            builder.RequireAuthorization(policy);
        }
        else
        {
            builder.RequireAuthorization();
        }
    }

    private sealed class CompositeConventionBuilder(IEndpointConventionBuilder[] builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var b in builders)
            {
                b.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var b in builders)
            {
                b.Finally(finallyConvention);
            }
        }
    }
}
