using System.Diagnostics.Metrics;

namespace Hardening.Auth;

/// <summary>The counters of the token and throttling features, created once from <see cref="IMeterFactory"/>.</summary>
internal sealed class AuthMetrics
{
    private readonly Counter<long> _tokenRejected;
    private readonly Counter<long> _loginFailures;
    private readonly Counter<long> _loginThrottled;
    private readonly Counter<long> _replayStoreErrors;

    public AuthMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = Meter = meterFactory.Create(AuthTelemetry.MeterName);
        _tokenRejected = meter.CreateCounter<long>("hardening.auth.token.rejected", "{token}", "Tokens rejected, by reason.");
        _loginFailures = meter.CreateCounter<long>("hardening.auth.login.failures", "{attempt}", "Failed password logins (known and unknown accounts alike).");
        _loginThrottled = meter.CreateCounter<long>("hardening.auth.login.throttled", "{attempt}", "Login attempts refused by the throttle, by scope.");
        _replayStoreErrors = meter.CreateCounter<long>("hardening.auth.replay.store_errors", "{error}", "Replay store calls that failed (store unreachable, timed out or full).");
    }

    /// <summary>The meter instance (tests listen to this one only).</summary>
    public Meter Meter { get; }

    public void TokenRejected(string reason)
    {
        if (_tokenRejected.Enabled)
        {
            _tokenRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void LoginFailed() => _loginFailures.Add(1);

    public void LoginThrottled(string scope)
    {
        if (_loginThrottled.Enabled)
        {
            _loginThrottled.Add(1, new KeyValuePair<string, object?>("scope", scope));
        }
    }

    public void ReplayStoreError() => _replayStoreErrors.Add(1);
}
