using Microsoft.Extensions.Logging;

namespace Hardening.Auth;

/// <summary>
/// Security events of the token and throttling features. Event ids are stable (4100-4199) so that alerting can key on
/// them; messages never contain a token, a password or a raw subject/jti (only <see cref="Fingerprint"/>s).
/// </summary>
internal static partial class AuthLog
{
    [LoggerMessage(EventId = 4101, EventName = "TokenRejected", Level = LogLevel.Warning,
        Message = "Token rejected by scheme {Scheme}: {Reason} (subject {SubjectHash}, jti {JtiHash}, failure {FailureType}).")]
    public static partial void TokenRejected(ILogger logger, string scheme, string reason, string subjectHash, string jtiHash, string failureType);

    [LoggerMessage(EventId = 4102, EventName = "ReplayDetected", Level = LogLevel.Warning,
        Message = "Replayed single-use token refused: issuer {Issuer}, jti {JtiHash}.")]
    public static partial void ReplayDetected(ILogger logger, string issuer, string jtiHash);

    [LoggerMessage(EventId = 4103, EventName = "ReplayStoreUnavailable", Level = LogLevel.Error,
        Message = "Token replay store {Store} failed; the token was refused (fail closed): issuer {Issuer}, jti {JtiHash}.")]
    public static partial void ReplayStoreUnavailable(ILogger logger, string store, string issuer, string jtiHash, Exception? exception);

    [LoggerMessage(EventId = 4104, EventName = "ReplayStoreUnavailableFailOpen", Level = LogLevel.Critical,
        Message = "Token replay store {Store} failed and FailOpen is set: the token was ACCEPTED without a replay check: issuer {Issuer}, jti {JtiHash}.")]
    public static partial void ReplayStoreUnavailableFailOpen(ILogger logger, string store, string issuer, string jtiHash, Exception? exception);

    [LoggerMessage(EventId = 4105, EventName = "ReplayStoreFull", Level = LogLevel.Error,
        Message = "In-memory token replay store is full ({MaxEntries} live entries); the token was refused (fail closed). Raise MaxInMemoryEntries or use Redis.")]
    public static partial void ReplayStoreFull(ILogger logger, int maxEntries);

    [LoggerMessage(EventId = 4106, EventName = "ReplayGuardFailOpenConfigured", Level = LogLevel.Warning,
        Message = "Token replay guard configured with FailOpen = true: when the store ({Store}) is unreachable, tokens are accepted without a replay check.")]
    public static partial void ReplayGuardFailOpenConfigured(ILogger logger, string store);

    [LoggerMessage(EventId = 4107, EventName = "ExpiredTokenNotConsumed", Level = LogLevel.Warning,
        Message = "Single-use token refused because it is past its expiry plus clock skew: issuer {Issuer}, jti {JtiHash}.")]
    public static partial void ExpiredTokenNotConsumed(ILogger logger, string issuer, string jtiHash);

    [LoggerMessage(EventId = 4108, EventName = "TokenIssuedBeforeStoreLoss", Level = LogLevel.Warning,
        Message = "Single-use token refused because it was issued ({IssuedAt:o}) before the replay store last lost its memory ({RememberedSince:o}); it cannot be proven unused: issuer {Issuer}, jti {JtiHash}.")]
    public static partial void TokenIssuedBeforeStoreLoss(ILogger logger, DateTimeOffset issuedAt, DateTimeOffset rememberedSince, string issuer, string jtiHash);

    [LoggerMessage(EventId = 4109, EventName = "TokenIssuedBeforeStoreLossAccepted", Level = LogLevel.Critical,
        Message = "Single-use token issued ({IssuedAt:o}) before the replay store last lost its memory ({RememberedSince:o}) was ACCEPTED (AcceptTokensIssuedBeforeStoreLoss): issuer {Issuer}, jti {JtiHash}.")]
    public static partial void TokenIssuedBeforeStoreLossAccepted(ILogger logger, DateTimeOffset issuedAt, DateTimeOffset rememberedSince, string issuer, string jtiHash);

    [LoggerMessage(EventId = 4110, EventName = "ReplayStoreWarmupFailed", Level = LogLevel.Warning,
        Message = "The Redis replay store could not prepare its key space at start-up; it retries at the first consume, and consumes are refused until Redis answers.")]
    public static partial void ReplayStoreWarmupFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4116, EventName = "ReplayStoreSetting",
        Message = "Redis server {Server}: {Finding}")]
    public static partial void ReplayStoreSetting(ILogger logger, LogLevel level, string server, string finding);

    [LoggerMessage(EventId = 4111, EventName = "LoginFailed", Level = LogLevel.Information,
        Message = "Login failed for account {AccountHash} from {ClientIp}.")]
    public static partial void LoginFailed(ILogger logger, string accountHash, string clientIp);

    [LoggerMessage(EventId = 4112, EventName = "LoginThrottled", Level = LogLevel.Warning,
        Message = "Login attempt refused by the throttle ({Scope}) for account {AccountHash} from {ClientIp}; retry after {RetryAfterSeconds} s.")]
    public static partial void LoginThrottled(ILogger logger, string scope, string accountHash, string clientIp, long retryAfterSeconds);

    [LoggerMessage(EventId = 4113, EventName = "LoginLockout", Level = LogLevel.Warning,
        Message = "Login lockout started ({Scope}) for account {AccountHash} from {ClientIp} for {LockoutSeconds} s.")]
    public static partial void LoginLockout(ILogger logger, string scope, string accountHash, string clientIp, long lockoutSeconds);

    [LoggerMessage(EventId = 4114, EventName = "ThrottleStoreUnavailable", Level = LogLevel.Error,
        Message = "Login throttle store {Store} failed; the attempt was refused (fail closed).")]
    public static partial void ThrottleStoreUnavailable(ILogger logger, string store, Exception? exception);

    [LoggerMessage(EventId = 4115, EventName = "ThrottleStoreUnavailableFailOpen", Level = LogLevel.Critical,
        Message = "Login throttle store {Store} failed and FailOpen is set: the attempt was ALLOWED without throttling.")]
    public static partial void ThrottleStoreUnavailableFailOpen(ILogger logger, string store, Exception? exception);

    [LoggerMessage(EventId = 4117, EventName = "LoginWithoutClientAddress", Level = LogLevel.Warning,
        Message = "Login attempt for account {AccountHash} has no client address and was refused (LoginThrottleOptions.MissingClientAddress = Refuse). Behind a proxy, process its forwarded headers so that HttpContext.Connection.RemoteIpAddress is the client's.")]
    public static partial void LoginWithoutClientAddress(ILogger logger, string accountHash);

    [LoggerMessage(EventId = 4121, EventName = "RateLimitStoreUnavailable", Level = LogLevel.Error,
        Message = "Redis rate limiter could not reach Redis; the request was {Outcome}.")]
    public static partial void RateLimitStoreUnavailable(ILogger logger, string outcome, Exception? exception);
}
