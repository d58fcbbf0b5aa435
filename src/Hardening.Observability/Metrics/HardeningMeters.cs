namespace Hardening.Observability;

/// <summary>
/// The meter names of the Hardening packages and of the presets in this package. The Prometheus exporter, the alert
/// rules and the diagnosis page know these names; the packages themselves do not depend on this one (each package
/// names its own meter: <c>AuthMeters.MeterName</c>, <c>RlsMeters.MeterName</c>, <c>FsmMeters.MeterName</c>,
/// <c>SseMeters.MeterName</c>), and a test proves the names here equal theirs.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter([.. HardeningMeters.Packages]));
/// // or: .WithMetrics(m => m.AddHardeningInstrumentation());
/// </code>
/// </example>
public static class HardeningMeters
{
    /// <summary>The ingestion preset (résumé parsing, OCR, duplicates, failures, queue depth).</summary>
    public const string Ingestion = "Hardening.Ingestion";

    /// <summary>The security preset (security events by kind).</summary>
    public const string Security = "Hardening.Security";

    /// <summary>The per-tenant usage preset (opt-in).</summary>
    public const string Tenancy = "Hardening.Tenancy";

    /// <summary>Health-check results published by this package (one gauge per check).</summary>
    public const string Health = "Hardening.Health";

    /// <summary>Hardening.Auth: token rejections, login failures and throttling, replay-store errors.</summary>
    public const string Auth = "Hardening.Auth";

    /// <summary>Hardening.Rls: linter findings and tenant mismatches.</summary>
    public const string Rls = "Hardening.Rls";

    /// <summary>Hardening.Fsm: accepted and rejected transitions.</summary>
    public const string Fsm = "Hardening.Fsm";

    /// <summary>Hardening.Sse: connections, published/delivered/replayed events, delivery lag.</summary>
    public const string Sse = "Hardening.Sse";

    /// <summary>ASP.NET Core's HTTP server metrics (<c>http.server.request.duration</c>), used by the SLO alerts.</summary>
    public const string AspNetCoreHosting = "Microsoft.AspNetCore.Hosting";

    /// <summary>Npgsql's connection-pool and command metrics.</summary>
    public const string Npgsql = "Npgsql";

    /// <summary>
    /// The meters of the Hardening packages and of this package's presets (every name above that starts with
    /// <c>Hardening.</c>): what <c>AddHardeningInstrumentation()</c> registers with OpenTelemetry.
    /// </summary>
    public static IReadOnlyList<string> Packages { get; } = [Ingestion, Security, Tenancy, Health, Auth, Rls, Fsm, Sse];

    /// <summary>Every meter above, the Hardening ones and the ASP.NET Core and Npgsql meters the alert presets read: what the Prometheus endpoint exports unless configured otherwise.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Ingestion, Security, Tenancy, Health, Auth, Rls, Fsm, Sse, AspNetCoreHosting, Npgsql];
}
