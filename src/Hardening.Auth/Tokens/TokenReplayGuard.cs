using Hardening.Auth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth.Tokens;

/// <summary>Outcome of a consume, for the integrations that classify rejections.</summary>
internal enum TokenConsumeResult
{
    Consumed,
    Replayed,
    Expired,
    StoreUnavailable,
}

/// <summary>
/// Makes a token single-use: <see cref="TryConsumeAsync"/> returns true exactly once per (issuer, jti) until the
/// token's expiry plus <see cref="TokenReplayGuardOptions.ClockSkew"/>, atomically across concurrent callers (and
/// across instances with the Redis store). Register it with <c>services.AddHardeningTokenReplayGuard(...)</c>.
/// </summary>
/// <remarks>
/// Use it on one-time tokens (refresh tokens, magic links, password-reset tokens, client assertions), not on every
/// access token: access tokens are presented many times by design. The key is a SHA-256 of the length-prefixed
/// (issuer, jti), never the token string, so re-encoded or re-signed copies of a token are still the same token.
/// If the store cannot be reached, the guard refuses and logs a security event (unless
/// <see cref="TokenReplayGuardOptions.FailOpen"/> is set).
/// </remarks>
public sealed class TokenReplayGuard
{
    private readonly ITokenReplayStore _store;
    private readonly TimeProvider _time;
    private readonly TimeSpan _clockSkew;
    private readonly bool _failOpen;
    private readonly int _maxInMemoryEntries;
    private readonly AuthMetrics _metrics;
    private readonly ILogger _logger;

    internal TokenReplayGuard(ITokenReplayStore store, TokenReplayGuardOptions options, TimeProvider time, AuthMetrics metrics, ILogger<TokenReplayGuard> logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _time = time;
        _clockSkew = options.ClockSkew;
        _failOpen = options.FailOpen;
        _maxInMemoryEntries = options.MaxInMemoryEntries;
        _metrics = metrics;
        _logger = logger;
        if (_failOpen)
        {
            AuthLog.ReplayGuardFailOpenConfigured(_logger, store.Name);
        }
    }

    /// <summary>The clock skew added to each token's expiry.</summary>
    public TimeSpan ClockSkew => _clockSkew;

    /// <summary>
    /// Consumes the token id <paramref name="jti"/> of <paramref name="issuer"/>: true the first time, false for every
    /// later call until <paramref name="expiresAt"/> plus the clock skew. Also false when the token is already past that
    /// time, and (unless fail-open) when the store cannot be reached.
    /// </summary>
    /// <param name="issuer">The token's <c>iss</c> (may be empty, not null).</param>
    /// <param name="jti">The token's <c>jti</c>: non-empty.</param>
    /// <param name="expiresAt">The token's <c>exp</c>.</param>
    /// <param name="cancellationToken">Cancels the store call.</param>
    /// <returns>True when this call consumed the token; false for a replay or when the guard cannot vouch for it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="issuer"/> or <paramref name="jti"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="jti"/> is empty, or a value is not valid UTF-16.</exception>
    /// <example>
    /// <code>
    /// if (!await guard.TryConsumeAsync(token.Issuer, token.Id, token.ValidTo, ct))
    /// {
    ///     return Results.Unauthorized(); // reset link already used
    /// }
    /// </code>
    /// </example>
    public async ValueTask<bool> TryConsumeAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var result = await ConsumeAsync(issuer, jti, expiresAt, cancellationToken).ConfigureAwait(false);
        switch (result)
        {
            case TokenConsumeResult.Consumed:
                return true;
            case TokenConsumeResult.Replayed:
                AuthLog.ReplayDetected(_logger, issuer, Fingerprint.Of(jti));
                _metrics.TokenRejected(TokenRejectionReasons.Replayed);
                return false;
            case TokenConsumeResult.Expired:
                AuthLog.ExpiredTokenNotConsumed(_logger, issuer, Fingerprint.Of(jti));
                _metrics.TokenRejected(TokenRejectionReasons.Expired);
                return false;
            default:
                _metrics.TokenRejected(TokenRejectionReasons.StoreUnavailable);
                return false;
        }
    }

    /// <summary>The consume without the outcome's log line and counter (store failures are still logged).</summary>
    internal async ValueTask<TokenConsumeResult> ConsumeAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentException.ThrowIfNullOrEmpty(jti);
        var retainUntil = expiresAt >= DateTimeOffset.MaxValue - _clockSkew ? DateTimeOffset.MaxValue : expiresAt + _clockSkew;
        if (retainUntil <= _time.GetUtcNow())
        {
            return TokenConsumeResult.Expired;
        }

        var key = ReplayKey.Compute(issuer, jti);
        ReplayStoreResult stored;
        Exception? failure = null;
        try
        {
            stored = await _store.TryAddAsync(key, retainUntil, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            stored = ReplayStoreResult.Full;
            failure = ex;
        }

        switch (stored)
        {
            case ReplayStoreResult.Added:
                return TokenConsumeResult.Consumed;
            case ReplayStoreResult.Exists:
                return TokenConsumeResult.Replayed;
            default:
                _metrics.ReplayStoreError();
                if (failure is null)
                {
                    AuthLog.ReplayStoreFull(_logger, _maxInMemoryEntries);
                }

                if (_failOpen)
                {
                    AuthLog.ReplayStoreUnavailableFailOpen(_logger, _store.Name, issuer, Fingerprint.Of(jti), failure);
                    return TokenConsumeResult.Consumed;
                }

                AuthLog.ReplayStoreUnavailable(_logger, _store.Name, issuer, Fingerprint.Of(jti), failure);
                return TokenConsumeResult.StoreUnavailable;
        }
    }
}
