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
    private readonly KeyValuePair<int, LoginThrottleLimit>[] _networks;

    internal LoginThrottle(ILoginThrottleStore store, LoginThrottleOptions options, AuthMetrics metrics, ILogger<LoginThrottle> logger)
    {
        _store = store;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _networks = [.. options.Ipv6NetworkLimits.OrderByDescending(p => p.Key)]; // once: the options are frozen after start-up
    }

    /// <summary>
    /// Decides whether a login attempt for <paramref name="account"/> from <paramref name="clientIp"/> may go on to
    /// password verification, and counts it if so.
    /// </summary>
    /// <param name="account">The account name as typed (it is trimmed and case-folded; it need not exist).</param>
    /// <param name="clientIp">
    /// The client's address (behind a proxy: the forwarded client address, see the README). Null is refused unless
    /// <see cref="LoginThrottleOptions.MissingClientAddress"/> says otherwise.
    /// </param>
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
        if (clientIp is null && _options.MissingClientAddress == LoginThrottleMissingAddress.Refuse)
        {
            _metrics.LoginThrottled(ScopeNames(LoginThrottleScope.ClientAddressMissing));
            AuthLog.LoginWithoutClientAddress(_logger, Fingerprint.Of(ThrottleKeys.NormalizeAccount(account)));
            return new LoginThrottleDecision(false, TimeSpan.Zero, LoginThrottleScope.ClientAddressMissing);
        }

        var network = ThrottleKeys.Network(clientIp);
        var (rules, scopes) = Rules(account, clientIp, network);
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
                AuthLog.LoginLockout(_logger, ScopeNames(scopes[BitIndex(outcome.LockMask)]), Fingerprint.Of(ThrottleKeys.NormalizeAccount(account)), network, (long)Math.Ceiling(outcome.LockMs / 1000.0));
            }

            return new LoginThrottleDecision(true, TimeSpan.Zero, LoginThrottleScope.None);
        }

        var scope = scopes[outcome.ScopeIndex];
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
        string[] keys = clientIp is null
            ? [ThrottleKeys.Account(_options.KeyPrefix, account)]
            : [ThrottleKeys.AccountAndIp(_options.KeyPrefix, account, ThrottleKeys.Network(clientIp)), ThrottleKeys.Account(_options.KeyPrefix, account)];
        try
        {
            await _store.ResetAsync(keys, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A lost reset leaves the counters as they were (stricter), never looser.
            AuthLog.ThrottleStoreUnavailable(_logger, _store.Name, ex);
        }
    }

    /// <summary>
    /// The rules of one attempt, in tie-break order: pair, account, IP (/64), then the IPv6 networks from the longest
    /// prefix to the shortest; without an address (AccountOnly) the account rule alone.
    /// </summary>
    private (ThrottleRule[] Rules, LoginThrottleScope[] Scopes) Rules(string account, IPAddress? clientIp, string network)
    {
        var prefix = _options.KeyPrefix;
        if (clientIp is null)
        {
            return ([ThrottleRule.For(ThrottleKeys.Account(prefix, account), _options.Account)], [LoginThrottleScope.Account]);
        }

        var v6 = ThrottleKeys.IsIPv6(clientIp);
        var extra = v6 ? _networks.Length : 0;
        var rules = new ThrottleRule[3 + extra];
        var scopes = new LoginThrottleScope[3 + extra];
        rules[0] = ThrottleRule.For(ThrottleKeys.AccountAndIp(prefix, account, network), _options.AccountAndIp);
        scopes[0] = LoginThrottleScope.AccountAndIp;
        rules[1] = ThrottleRule.For(ThrottleKeys.Account(prefix, account), _options.Account);
        scopes[1] = LoginThrottleScope.Account;
        rules[2] = ThrottleRule.For(ThrottleKeys.Ip(prefix, network), _options.Ip);
        scopes[2] = LoginThrottleScope.Ip;
        if (v6)
        {
            var i = 3;
            foreach (var (length, limit) in _networks)
            {
                rules[i] = ThrottleRule.For(ThrottleKeys.Ip(prefix, ThrottleKeys.Network(clientIp, length)), limit);
                scopes[i++] = LoginThrottleScope.Ipv6Network;
            }
        }

        return (rules, scopes);
    }

    internal static string ScopeNames(LoginThrottleScope scope) => scope switch
    {
        LoginThrottleScope.AccountAndIp => "account_ip",
        LoginThrottleScope.Account => "account",
        LoginThrottleScope.Ip => "ip",
        LoginThrottleScope.StoreUnavailable => "store_unavailable",
        LoginThrottleScope.Ipv6Network => "ipv6_network",
        LoginThrottleScope.ClientAddressMissing => "client_address_missing",
        _ => "none",
    };

    private static int BitIndex(int mask) => System.Numerics.BitOperations.TrailingZeroCount(mask);
}
