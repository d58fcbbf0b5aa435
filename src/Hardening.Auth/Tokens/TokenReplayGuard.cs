using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Hardening.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Hardening.Auth;

/// <summary>What <see cref="TokenReplayGuard.ConsumeAsync"/> did with a token, so the caller can answer precisely.</summary>
public enum TokenConsumeResult
{
    /// <summary>This call consumed the token: go on.</summary>
    Consumed,

    /// <summary>The token was used before: a replay (answer 401; for a refresh token, revoke its family).</summary>
    Replayed,

    /// <summary>The token is past its expiry plus the clock skew (answer 401).</summary>
    Expired,

    /// <summary>The store could not be reached or did not answer in time, so the token was refused (answer 503; the client may retry).</summary>
    StoreUnavailable,

    /// <summary>
    /// The token was issued before the store last lost its memory (restart without persistence, FLUSHALL, eviction,
    /// failover), so the store cannot tell whether it was used (answer 401; the user signs in again).
    /// </summary>
    IssuedBeforeStoreLoss,
}

/// <summary>
/// Makes a token single-use: <see cref="ConsumeAsync"/> answers <see cref="TokenConsumeResult.Consumed"/> exactly once
/// per (issuer, jti) until the token's expiry plus <see cref="TokenReplayGuardOptions.ClockSkew"/>, atomically across
/// concurrent callers (and across instances with Redis). Register it with <c>services.AddHardeningTokenReplayGuard(...)</c>,
/// or build one over a multiplexer with <see cref="Create(IConnectionMultiplexer, TokenReplayGuardOptions?, TimeProvider?, ILoggerFactory?, IMeterFactory?)"/>.
/// </summary>
/// <remarks>
/// Use it on one-time tokens (refresh tokens, magic links, password-reset tokens, client assertions), not on every
/// access token: access tokens are presented many times by design. The key is a SHA-256 of the length-prefixed
/// (issuer, jti), never the token string, so re-encoded or re-signed copies of a token are still the same token.
/// If the store cannot be reached, the guard refuses and logs a security event (unless
/// <see cref="TokenReplayGuardOptions.FailOpen"/> is set); a token issued before the store last lost its memory is
/// refused too (unless <see cref="TokenReplayGuardOptions.AcceptTokensIssuedBeforeStoreLoss"/> is set).
/// </remarks>
public sealed class TokenReplayGuard
{
    private readonly ITokenReplayStore _store;
    private readonly TimeProvider _time;
    private readonly TimeSpan _clockSkew;
    private readonly bool _failOpen;
    private readonly bool _acceptBeforeLoss;
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
        _acceptBeforeLoss = options.AcceptTokensIssuedBeforeStoreLoss;
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

    internal ITokenReplayStore Store => _store;

    /// <summary>
    /// A guard that keeps consumed ids in Redis over <paramref name="redis"/>, without a service provider (for a console
    /// tool, a test, or a second guard on another multiplexer). <see cref="TokenReplayGuardOptions.UseRedis"/> and
    /// <see cref="TokenReplayGuardOptions.RedisServiceKey"/> are ignored here.
    /// </summary>
    /// <param name="redis">The multiplexer; see the package README for the settings it should have.</param>
    /// <param name="options">The options (validated here); null for the defaults.</param>
    /// <param name="time">The clock; null for <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggers">Where security events go; null for none.</param>
    /// <param name="meters">Where the counters go; null for a private meter factory.</param>
    /// <returns>The guard.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <example>
    /// <code>
    /// var guard = TokenReplayGuard.Create(multiplexer, new TokenReplayGuardOptions { KeyPrefix = "tool:jti:" });
    /// var result = await guard.ConsumeAsync(issuer, jti, issuedAt, expiresAt);
    /// </code>
    /// </example>
    public static TokenReplayGuard Create(IConnectionMultiplexer redis, TokenReplayGuardOptions? options = null, TimeProvider? time = null, ILoggerFactory? loggers = null, IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        options ??= new TokenReplayGuardOptions();
        ThrowIfInvalid(options);
        time ??= TimeProvider.System;
        loggers ??= NullLoggerFactory.Instance;
        return new TokenReplayGuard(new RedisTokenReplayStore(redis, options, time), options, time, new AuthMetrics(meters ?? OwnMeterFactory.Instance), loggers.CreateLogger<TokenReplayGuard>());
    }

    /// <summary>
    /// Consumes the token id <paramref name="jti"/> of <paramref name="issuer"/> and says what happened: consumed the
    /// first time; replayed for every later call until <paramref name="expiresAt"/> plus the clock skew; expired once
    /// past that; store unavailable when the store cannot vouch for it (unless fail-open); issued before store loss when
    /// <paramref name="issuedAt"/> is earlier than the time since which the store has remembered consumed ids.
    /// </summary>
    /// <param name="issuer">The token's <c>iss</c> (may be empty, not null).</param>
    /// <param name="jti">The token's <c>jti</c>: non-empty.</param>
    /// <param name="issuedAt">The token's <c>iat</c>. Single-use tokens need one: it is how the guard tells tokens that a store which lost its memory can no longer vouch for.</param>
    /// <param name="expiresAt">The token's <c>exp</c>.</param>
    /// <param name="cancellationToken">Cancels the wait for the store.</param>
    /// <returns>The outcome; only <see cref="TokenConsumeResult.Consumed"/> lets the token through.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="issuer"/> or <paramref name="jti"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="jti"/> is empty, a value is not valid UTF-16, or <paramref name="issuedAt"/> is after <paramref name="expiresAt"/>.</exception>
    /// <example>
    /// <code>
    /// switch (await guard.ConsumeAsync(token.Issuer, token.Id, token.IssuedAt, token.ValidTo, ct))
    /// {
    ///     case TokenConsumeResult.Consumed: break;
    ///     case TokenConsumeResult.StoreUnavailable: return Results.StatusCode(503);
    ///     default: return Results.Unauthorized(); // used, expired, or not provably unused
    /// }
    /// </code>
    /// </example>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<TokenConsumeResult> ConsumeAsync(string issuer, string jti, DateTimeOffset issuedAt, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var result = await ConsumeQuietlyAsync(issuer, jti, issuedAt, expiresAt, cancellationToken).ConfigureAwait(false);
        switch (result)
        {
            case TokenConsumeResult.Consumed:
                break;
            case TokenConsumeResult.Replayed:
                AuthLog.ReplayDetected(_logger, issuer, Fingerprint.Of(jti));
                _metrics.TokenRejected(TokenRejectionReasons.Replayed);
                break;
            case TokenConsumeResult.Expired:
                AuthLog.ExpiredTokenNotConsumed(_logger, issuer, Fingerprint.Of(jti));
                _metrics.TokenRejected(TokenRejectionReasons.Expired);
                break;
            case TokenConsumeResult.IssuedBeforeStoreLoss:
                _metrics.TokenRejected(TokenRejectionReasons.IssuedBeforeStoreLoss);
                break;
            default:
                _metrics.TokenRejected(TokenRejectionReasons.StoreUnavailable);
                break;
        }

        return result;
    }

    /// <summary>
    /// <see cref="ConsumeAsync"/> as a bool: true only when this call consumed the token. Use <see cref="ConsumeAsync"/>
    /// to tell a replay (401) from a store outage (503).
    /// </summary>
    /// <param name="issuer">The token's <c>iss</c> (may be empty, not null).</param>
    /// <param name="jti">The token's <c>jti</c>: non-empty.</param>
    /// <param name="issuedAt">The token's <c>iat</c>.</param>
    /// <param name="expiresAt">The token's <c>exp</c>.</param>
    /// <param name="cancellationToken">Cancels the wait for the store.</param>
    /// <returns>True when this call consumed the token.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="issuer"/> or <paramref name="jti"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="jti"/> is empty, a value is not valid UTF-16, or <paramref name="issuedAt"/> is after <paramref name="expiresAt"/>.</exception>
    public async ValueTask<bool> TryConsumeAsync(string issuer, string jti, DateTimeOffset issuedAt, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        await ConsumeAsync(issuer, jti, issuedAt, expiresAt, cancellationToken).ConfigureAwait(false) == TokenConsumeResult.Consumed;

    internal static void ThrowIfInvalid(TokenReplayGuardOptions options)
    {
        var problem = TokenReplayGuardOptionsValidator.Problems(options).FirstOrDefault();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options)); // the parameter of Create
        }
    }

    /// <summary>The consume without the outcome's log line and counter (store failures are still logged).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<TokenConsumeResult> ConsumeQuietlyAsync(string issuer, string jti, DateTimeOffset issuedAt, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentException.ThrowIfNullOrEmpty(jti);
        if (issuedAt > expiresAt)
        {
            throw new ArgumentException($"The token's issue time ({issuedAt:o}) is after its expiry ({expiresAt:o}); such a token is malformed.", nameof(issuedAt));
        }

        var now = _time.GetUtcNow();
        var retainUntil = expiresAt >= DateTimeOffset.MaxValue - _clockSkew ? DateTimeOffset.MaxValue : expiresAt + _clockSkew;
        if (retainUntil <= now)
        {
            return TokenConsumeResult.Expired;
        }

        var key = ReplayKey.Compute(issuer, jti);
        ReplayStoreAnswer answer;
        Exception? failure = null;
        try
        {
            answer = await _store.TryAddAsync(key, retainUntil, now, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            answer = new ReplayStoreAnswer(ReplayStoreResult.Full, default);
            failure = ex;
        }

        switch (answer.Result)
        {
            case ReplayStoreResult.Added or ReplayStoreResult.Exists when IssuedBefore(issuedAt, answer.RememberedSince):
                if (_acceptBeforeLoss && answer.Result == ReplayStoreResult.Added)
                {
                    AuthLog.TokenIssuedBeforeStoreLossAccepted(_logger, issuedAt, answer.RememberedSince, issuer, Fingerprint.Of(jti));
                    return TokenConsumeResult.Consumed;
                }

                if (answer.Result == ReplayStoreResult.Exists)
                {
                    return TokenConsumeResult.Replayed;
                }

                AuthLog.TokenIssuedBeforeStoreLoss(_logger, issuedAt, answer.RememberedSince, issuer, Fingerprint.Of(jti));
                return TokenConsumeResult.IssuedBeforeStoreLoss;
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

    /// <summary>
    /// True when the token was issued in a whole second before the one in which the store's memory began: <c>iat</c> has
    /// one-second precision, so a token of the same second counts as issued after.
    /// </summary>
    private static bool IssuedBefore(DateTimeOffset issuedAt, DateTimeOffset rememberedSince) =>
        issuedAt.ToUnixTimeSeconds() < rememberedSince.ToUnixTimeSeconds();

    /// <summary>The meter factory of guards built without DI (the standard one, from <c>AddMetrics</c>).</summary>
    private static class OwnMeterFactory
    {
        public static readonly IMeterFactory Instance = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
    }
}
