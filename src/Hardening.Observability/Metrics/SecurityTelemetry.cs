using System.Diagnostics.Metrics;
using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>
/// The security metric preset on meter <see cref="HardeningMeters.Security"/>: one counter
/// <c>hardening.security.events</c> with a bounded <c>event</c> label. Login failures, token rejections and replays
/// come from Hardening.Auth's own meter.
/// </summary>
/// <example>
/// <code>
/// if (!antiforgeryValid) { security.Record(SecurityEvent.CsrfRejected); return Results.BadRequest(); }
/// </code>
/// </example>
public sealed class SecurityTelemetry
{
    private readonly SecurityMetrics _metrics;

    /// <summary>Creates the preset's instruments from <paramref name="meterFactory"/>.</summary>
    public SecurityTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _metrics = new SecurityMetrics(meterFactory);
    }

    /// <summary>Counts one security event.</summary>
    public void Record(SecurityEvent securityEvent) => _metrics.Event(securityEvent);
}
