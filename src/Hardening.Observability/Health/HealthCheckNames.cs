namespace Hardening.Observability;

/// <summary>The names and tag of the readiness checks this package registers.</summary>
public static class HealthCheckNames
{
    /// <summary>The tag every readiness check carries; <c>/health/ready</c> runs the checks with it, <c>/health/live</c> runs none.</summary>
    public const string ReadyTag = "ready";

    /// <summary>PostgreSQL (<c>SELECT 1</c> through the app's <c>NpgsqlDataSource</c>).</summary>
    public const string PostgreSql = "postgresql";

    /// <summary>Redis (<c>PING</c> and the safety of its settings, on the app's <c>IConnectionMultiplexer</c>).</summary>
    public const string Redis = "redis";

    /// <summary>The RLS linter hook.</summary>
    public const string RlsLinter = "rls";

    /// <summary>The SSE backplane hook.</summary>
    public const string SseBackplane = "sse-backplane";
}
