using System.Diagnostics.Metrics;

namespace Hardening.Observability;

/// <summary>The security preset's instruments (meter <see cref="HardeningMeters.Security"/>).</summary>
internal sealed class SecurityMetrics
{
    public const string MeterName = HardeningMeters.Security;

    public const string EventsName = "hardening.security.events";

    private static readonly object[] EventTags = [.. Enum.GetValues<SecurityEvent>().Select(e => (object)EventText(e))];

    private readonly Counter<long> _events;

    public SecurityMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _events = meter.CreateCounter<long>(EventsName, unit: "{event}", description: "Security events, by kind.");
    }

    public static string EventText(SecurityEvent value) => value switch
    {
        SecurityEvent.AuthorizationDenied => "authorization_denied",
        SecurityEvent.RateLimited => "rate_limited",
        SecurityEvent.CsrfRejected => "csrf_rejected",
        SecurityEvent.InputRejected => "input_rejected",
        SecurityEvent.MaliciousUpload => "malicious_upload",
        SecurityEvent.TenantBoundaryViolation => "tenant_boundary_violation",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown security event."),
    };

    public void Event(SecurityEvent value)
    {
        if (_events.Enabled)
        {
            if ((uint)value >= (uint)EventTags.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown security event; use a SecurityEvent member.");
            }

            _events.Add(1, new KeyValuePair<string, object?>("event", EventTags[(int)value]));
        }
    }
}
