using System.Diagnostics.Metrics;

namespace Hardening.Auth;

/// <summary>The instruments of the token and throttling features, created once from <see cref="IMeterFactory"/>.</summary>
internal sealed class AuthMetrics
{
    public const string MeterName = AuthMeters.MeterName;

    private readonly Counter<long> _tokenRejected;
    private readonly Counter<long> _loginFailures;
    private readonly Counter<long> _loginThrottled;
    private readonly Counter<long> _replayStoreErrors;

    public AuthMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = Meter = meterFactory.Create(MeterName);
        _tokenRejected = meter.CreateCounter<long>(AuthMeters.TokenRejected, "{token}", "Tokens rejected, by reason.");
        _loginFailures = meter.CreateCounter<long>(AuthMeters.LoginFailures, "{attempt}", "Failed password logins (known and unknown accounts alike).");
        _loginThrottled = meter.CreateCounter<long>(AuthMeters.LoginThrottled, "{attempt}", "Login attempts refused by the throttle, by scope.");
        _replayStoreErrors = meter.CreateCounter<long>(AuthMeters.ReplayStoreErrors, "{error}", "Replay store calls that failed (store unreachable, timed out or full).");
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

    public void LoginFailed()
    {
        if (_loginFailures.Enabled)
        {
            _loginFailures.Add(1);
        }
    }

    public void LoginThrottled(string scope)
    {
        if (_loginThrottled.Enabled)
        {
            _loginThrottled.Add(1, new KeyValuePair<string, object?>("scope", scope));
        }
    }

    public void ReplayStoreError()
    {
        if (_replayStoreErrors.Enabled)
        {
            _replayStoreErrors.Add(1);
        }
    }
}
