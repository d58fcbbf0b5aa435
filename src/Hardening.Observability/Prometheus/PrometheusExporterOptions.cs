using Microsoft.AspNetCore.Http;

namespace Hardening.Observability;

/// <summary>What the Prometheus endpoint exports and who may scrape it.</summary>
public sealed class PrometheusExporterOptions
{
    /// <summary>Meter names to export. Default: <see cref="HardeningMeters.All"/> (the presets, the other Hardening packages, ASP.NET Core hosting and Npgsql).</summary>
    public IList<string> Meters { get; } = [.. HardeningMeters.All];

    /// <summary>Series per instrument before new tag sets land in one <c>otel_metric_overflow="true"</c> series. Default 2,000.</summary>
    public int MaxSeriesPerInstrument { get; set; } = 2000;

    /// <summary>
    /// Authorization policy for the scraping endpoint; null uses the app's default policy. Ignored when
    /// <see cref="Authorize"/> is set or <see cref="AllowAnonymous"/> is true.
    /// </summary>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>
    /// A custom authorization hook (for example a static bearer token or a loopback check): return true to allow the
    /// scrape; false answers 401. When set, it replaces the ASP.NET Core authorization policy.
    /// </summary>
    public Func<HttpContext, ValueTask<bool>>? Authorize { get; set; }

    /// <summary>Serve <c>/metrics</c> without any authorization. Off by default; turning it on is logged as a warning at start-up.</summary>
    public bool AllowAnonymous { get; set; }
}
