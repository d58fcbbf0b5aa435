using System.Net;
using Hardening.Auth;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth;

/// <summary>
/// Brute-force protection for password logins, checked BEFORE the password is verified: limits per (account, IP),
/// per account and per IP, each with a window, a lockout that doubles up to a cap, and a reset on success.
/// Every admitted attempt counts until <see cref="ResetAsync"/> clears it, so concurrent guesses cannot slip past the
/// threshold. Register it with <c>services.AddHardeningLoginThrottle(...)</c>.
/// </summary>
/// <remarks>
/// Call it for unknown accounts exactly as for known ones (or use <see cref="PasswordLogin"/>, which does that and
/// runs a dummy verification), so that neither the throttle nor its timing reveals which accounts exist.
/// </remarks>
public sealed class LoginThrottle
{
    private readonly ILoginThrottleStore _store;
    private readonly LoginThrottleOptions _options;
    private readonly AuthMetrics _metrics;
    private readonly ILogger _logger;

    internal LoginThrottle(ILoginThrottleStore store, LoginThrottleOptions options, AuthMetrics metrics, ILogger<LoginThrottle> logger)
    {
        _store = store;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>
    /// Decides whether a login attempt for <paramref name="account"/> from <paramref name="clientIp"/> may go on to
    /// password verification, and counts it if so.
    /// </summary>
    /// <param name="account">The account name as typed (it is trimmed and case-folded; it need not exist).</param>
    /// <param name="clientIp">The client's address (null counts under one shared "unknown" IP).</param>
    /// <param name="cancellationToken">Cancels the store call.</param>
    /// <returns>Allowed, or refused with the limit and a Retry-After.</returns>
    /// <example>
    /// <code>
    /// var decision = await throttle.AcquireAsync(form.Email, http.Connection.RemoteIpAddress, ct);
    /// if (!decision.IsAllowed)
    /// {
    ///     http.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString();
    ///     return Results.StatusCode(429);
    /// }
    /// </code>
    /// </example>
    public async ValueTask<LoginThrottleDecision> AcquireAsync(string account, IPAddress? clientIp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var network = ThrottleKeys.Network(clientIp);
        ThrottleRule[] rules =
        [
            ThrottleRule.For(ThrottleKeys.AccountAndIp(_options.KeyPrefix, account, network), _options.AccountAndIp),
            ThrottleRule.For(ThrottleKeys.Account(_options.KeyPrefix, account), _options.Account),
            ThrottleRule.For(ThrottleKeys.Ip(_options.KeyPrefix, network), _options.Ip),
        ];

        ThrottleOutcome outcome;
        try
        {
            outcome = await _store.AcquireAsync(rules, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            if (_options.FailOpen)
            {
                AuthLog.ThrottleStoreUnavailableFailOpen(_logger, _store.Name, ex);
                return new LoginThrottleDecision(true, TimeSpan.Zero, LoginThrottleScope.None);
            }

            AuthLog.ThrottleStoreUnavailable(_logger, _store.Name, ex);
            return new LoginThrottleDecision(false, TimeSpan.FromSeconds(1), LoginThrottleScope.StoreUnavailable);
        }

        if (outcome.Allowed)
        {
            if (outcome.LockMask != 0)
            {
                AuthLog.LoginLockout(_logger, ScopeNames((LoginThrottleScope)(BitIndex(outcome.LockMask) + 1)), Fingerprint.Of(ThrottleKeys.NormalizeAccount(account)), network, (long)Math.Ceiling(outcome.LockMs / 1000.0));
            }

            return new LoginThrottleDecision(true, TimeSpan.Zero, LoginThrottleScope.None);
        }

        var scope = (LoginThrottleScope)(outcome.ScopeIndex + 1);
        var decision = new LoginThrottleDecision(false, TimeSpan.FromMilliseconds(outcome.RetryAfterMs), scope);
        _metrics.LoginThrottled(ScopeNames(scope));
        AuthLog.LoginThrottled(_logger, ScopeNames(scope), Fingerprint.Of(ThrottleKeys.NormalizeAccount(account)), network, decision.RetryAfterSeconds);
        return decision;
    }

    /// <summary>
    /// Clears the (account, IP) and account counters and lockouts after a successful login. The per-IP counter is
    /// kept, so an attacker cannot reset it by logging in to an account of their own between guesses.
    /// </summary>
    /// <param name="account">The account that logged in.</param>
    /// <param name="clientIp">The client's address.</param>
    /// <param name="cancellationToken">Cancels the store call.</param>
    /// <returns>A task that completes when the counters are cleared.</returns>
    public async ValueTask ResetAsync(string account, IPAddress? clientIp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var network = ThrottleKeys.Network(clientIp);
        try
        {
            await _store.ResetAsync([ThrottleKeys.AccountAndIp(_options.KeyPrefix, account, network), ThrottleKeys.Account(_options.KeyPrefix, account)], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A lost reset leaves the counters as they were (stricter), never looser.
            AuthLog.ThrottleStoreUnavailable(_logger, _store.Name, ex);
        }
    }

    internal static string ScopeNames(LoginThrottleScope scope) => scope switch
    {
        LoginThrottleScope.AccountAndIp => "account_ip",
        LoginThrottleScope.Account => "account",
        LoginThrottleScope.Ip => "ip",
        LoginThrottleScope.StoreUnavailable => "store_unavailable",
        _ => "none",
    };

    private static int BitIndex(int mask) => System.Numerics.BitOperations.TrailingZeroCount(mask);
}
