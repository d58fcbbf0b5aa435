namespace Hardening.Auth;

/// <summary>The meter and instrument names Hardening.Auth publishes (for OpenTelemetry, dashboards and alert rules).</summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(AuthMeters.MeterName));
/// </code>
/// </example>
public static class AuthMeters
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of this package: <c>Hardening.Auth</c>.</summary>
    public const string MeterName = "Hardening.Auth";

    /// <summary>Counter of rejected tokens (<c>{token}</c>), tagged <c>reason</c>.</summary>
    public const string TokenRejected = "hardening.auth.token.rejected";

    /// <summary>Counter of failed password logins, known and unknown accounts alike (<c>{attempt}</c>).</summary>
    public const string LoginFailures = "hardening.auth.login.failures";

    /// <summary>Counter of login attempts refused by the throttle (<c>{attempt}</c>), tagged <c>scope</c>.</summary>
    public const string LoginThrottled = "hardening.auth.login.throttled";

    /// <summary>Counter of replay-store calls that failed: unreachable, timed out or full (<c>{error}</c>).</summary>
    public const string ReplayStoreErrors = "hardening.auth.replay.store_errors";
}
