namespace Hardening.Samples.Ats.Infrastructure;

/// <summary>The sample's structured events (stable ids 18xxx); never tokens or passwords.</summary>
internal static partial class AtsLog
{
    [LoggerMessage(EventId = 18001, EventName = "RefreshTokenReused", Level = LogLevel.Warning,
        Message = "A refresh token was used twice (tenant {TenantId}, account {AccountId}); token family {FamilyId} revoked")]
    public static partial void RefreshTokenReused(ILogger logger, Guid tenantId, Guid accountId, Guid familyId);

    [LoggerMessage(EventId = 18002, EventName = "OutboxPublishFailed", Level = LogLevel.Warning,
        Message = "Relaying the outbox of tenant {TenantId} failed; it is retried")]
    public static partial void OutboxPublishFailed(ILogger logger, Guid tenantId, Exception exception);

    [LoggerMessage(EventId = 18003, EventName = "ResumeJobFailed", Level = LogLevel.Warning,
        Message = "Résumé job {JobId} of tenant {TenantId} failed (attempt {Attempt}): {Reason}")]
    public static partial void ResumeJobFailed(ILogger logger, Guid jobId, Guid tenantId, int attempt, string reason);

    [LoggerMessage(EventId = 18004, EventName = "ResumeJobDead", Level = LogLevel.Error,
        Message = "Résumé job {JobId} of tenant {TenantId} moved to the dead-letter state after {Attempt} attempts")]
    public static partial void ResumeJobDead(ILogger logger, Guid jobId, Guid tenantId, int attempt);

    [LoggerMessage(EventId = 18005, EventName = "UnhandledError", Level = LogLevel.Error,
        Message = "Unhandled error on {Method} {Path}")]
    public static partial void UnhandledError(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 18006, EventName = "WorkerPassFailed", Level = LogLevel.Error,
        Message = "A pass of the {Worker} failed unexpectedly; the worker waits one poll interval and goes on")]
    public static partial void WorkerPassFailed(ILogger logger, string worker, Exception exception);

    [LoggerMessage(EventId = 18007, EventName = "OutboxRowUnpublishable", Level = LogLevel.Error,
        Message = "Outbox row {RowId} of tenant {TenantId} can never be published and is skipped")]
    public static partial void OutboxRowUnpublishable(ILogger logger, Guid tenantId, long rowId, Exception exception);
}

/// <summary>Names of the Redis rate-limiting policies.</summary>
internal static class RateLimits
{
    /// <summary>Anonymous auth endpoints, per client network.</summary>
    public const string Auth = "auth";

    /// <summary>Authenticated API, per user.</summary>
    public const string Api = "api";
}
