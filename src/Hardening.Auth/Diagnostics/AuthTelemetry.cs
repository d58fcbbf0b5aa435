namespace Hardening.Auth;

/// <summary>Names under which Hardening.Auth publishes its metrics.</summary>
/// <remarks>
/// Counters (all on the meter <see cref="MeterName"/>): <c>hardening.auth.token.rejected</c> (tag <c>reason</c>),
/// <c>hardening.auth.login.failures</c>, <c>hardening.auth.login.throttled</c> (tag <c>scope</c>) and
/// <c>hardening.auth.replay.store_errors</c>.
/// </remarks>
public static class AuthTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of this package: <c>Hardening.Auth</c>.</summary>
    public const string MeterName = "Hardening.Auth";
}
