using System.Net;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth;

/// <summary>How a <see cref="PasswordLogin"/> attempt ended.</summary>
public enum PasswordLoginStatus
{
    /// <summary>The password matched.</summary>
    Succeeded,

    /// <summary>Unknown account or wrong password: deliberately indistinguishable.</summary>
    Failed,

    /// <summary>Refused by <see cref="LoginThrottle"/> before any verification; see <see cref="PasswordLoginResult.RetryAfter"/>.</summary>
    Throttled,
}

/// <summary>The result of <see cref="PasswordLogin.VerifyAsync"/>.</summary>
/// <param name="Status">Succeeded, failed or throttled.</param>
/// <param name="RehashNeeded">On success: store a fresh hash of the password (legacy or outdated stored hash).</param>
/// <param name="RetryAfter">When throttled: how long until the next attempt can be admitted.</param>
public readonly record struct PasswordLoginResult(PasswordLoginStatus Status, bool RehashNeeded, TimeSpan RetryAfter)
{
    /// <summary><see cref="RetryAfter"/> in whole seconds, rounded up, for a <c>Retry-After</c> header.</summary>
    public long RetryAfterSeconds => Status == PasswordLoginStatus.Throttled ? Math.Max(1, (long)Math.Ceiling(RetryAfter.TotalSeconds)) : 0;
}

/// <summary>The password check this flow needs (the package's <c>PasswordHasher</c> in production).</summary>
internal interface IPasswordVerifier
{
    PasswordVerificationResult Verify(string password, string hash);

    void VerifyDummy(string password);
}

/// <summary>
/// The enumeration-safe password login: throttle first, then exactly one password verification whether or not the
/// account exists (a dummy verification of the same cost for unknown accounts), then a reset of the throttle on
/// success. Unknown and known accounts get the same result, the same throttling and the same amount of work.
/// </summary>
public sealed class PasswordLogin
{
    private readonly LoginThrottle _throttle;
    private readonly IPasswordVerifier _verifier;
    private readonly AuthMetrics _metrics;
    private readonly ILogger _logger;

    internal PasswordLogin(LoginThrottle throttle, IPasswordVerifier verifier, AuthMetrics metrics, ILogger<PasswordLogin> logger)
    {
        _throttle = throttle;
        _verifier = verifier;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Checks a login attempt.</summary>
    /// <param name="account">The account name as submitted.</param>
    /// <param name="password">The password as submitted.</param>
    /// <param name="clientIp">The client's address.</param>
    /// <param name="findPasswordHash">Looks up the stored hash of an account; null when the account does not exist.</param>
    /// <param name="cancellationToken">Cancels the lookups.</param>
    /// <returns>Succeeded (maybe with <see cref="PasswordLoginResult.RehashNeeded"/>), Failed or Throttled.</returns>
    /// <example>
    /// <code>
    /// var result = await login.VerifyAsync(form.Email, form.Password, http.Connection.RemoteIpAddress,
    ///     (email, ct) => users.FindPasswordHashAsync(email, ct), ct);
    /// return result.Status switch
    /// {
    ///     PasswordLoginStatus.Succeeded => SignIn(form.Email),
    ///     PasswordLoginStatus.Throttled => TooManyRequests(result.RetryAfterSeconds),
    ///     _ => Results.Unauthorized(),
    /// };
    /// </code>
    /// </example>
    public async ValueTask<PasswordLoginResult> VerifyAsync(string account, string password, IPAddress? clientIp, Func<string, CancellationToken, ValueTask<string?>> findPasswordHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(findPasswordHash);

        var decision = await _throttle.AcquireAsync(account, clientIp, cancellationToken).ConfigureAwait(false);
        if (!decision.IsAllowed)
        {
            return new PasswordLoginResult(PasswordLoginStatus.Throttled, false, decision.RetryAfter);
        }

        var hash = await findPasswordHash(account, cancellationToken).ConfigureAwait(false);
        var result = PasswordVerificationResult.Failed;
        if (hash is null)
        {
            _verifier.VerifyDummy(password);
        }
        else
        {
            result = _verifier.Verify(password, hash);
        }

        if (result == PasswordVerificationResult.Failed)
        {
            _metrics.LoginFailed();
            AuthLog.LoginFailed(_logger, Fingerprint.Of(ThrottleKeys.NormalizeAccount(account)), ThrottleKeys.Network(clientIp));
            return new PasswordLoginResult(PasswordLoginStatus.Failed, false, TimeSpan.Zero);
        }

        await _throttle.ResetAsync(account, clientIp, cancellationToken).ConfigureAwait(false);
        return new PasswordLoginResult(PasswordLoginStatus.Succeeded, result == PasswordVerificationResult.SuccessRehashNeeded, TimeSpan.Zero);
    }
}

/// <summary>The production verifier: the package's <see cref="PasswordHasher"/>.</summary>
internal sealed class PasswordHasherVerifier(PasswordHasher hasher) : IPasswordVerifier
{
    public PasswordVerificationResult Verify(string password, string hash) => hasher.Verify(password, hash);

    public void VerifyDummy(string password) => hasher.VerifyDummy(password);
}
