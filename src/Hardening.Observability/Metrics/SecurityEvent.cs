namespace Hardening.Observability;

/// <summary>Security events the security preset counts; a closed set so the <c>event</c> label stays bounded.</summary>
public enum SecurityEvent
{
    /// <summary>An authenticated caller was denied by an authorization policy (<c>authorization_denied</c>).</summary>
    AuthorizationDenied,

    /// <summary>A request was rejected by a rate limiter (<c>rate_limited</c>).</summary>
    RateLimited,

    /// <summary>A request failed anti-forgery validation (<c>csrf_rejected</c>).</summary>
    CsrfRejected,

    /// <summary>Input was rejected by validation as hostile, e.g. oversized or malformed (<c>input_rejected</c>).</summary>
    InputRejected,

    /// <summary>An uploaded file was flagged as malicious (macros, malware signature) (<c>malicious_upload</c>).</summary>
    MaliciousUpload,

    /// <summary>A request touched another tenant's data and was stopped (<c>tenant_boundary_violation</c>).</summary>
    TenantBoundaryViolation,
}
