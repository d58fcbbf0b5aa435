namespace Hardening.Observability;

/// <summary>
/// The tag of the readiness checks and the default names of the checks the Hardening packages register. Each package
/// owns its check (<c>AddHardeningRlsLintCheck</c> in Hardening.Rls, <c>AddHardeningTokenReplayStoreCheck</c> in
/// Hardening.Auth, <c>AddHardeningSseStoreCheck</c> in Hardening.Sse); the names are here so that the alert presets
/// can select them, and a test proves they equal the packages' defaults.
/// </summary>
public static class HealthCheckNames
{
    /// <summary>The tag every readiness check carries; <c>/health/ready</c> runs the checks with it, <c>/health/live</c> runs none.</summary>
    public const string ReadyTag = "ready";

    /// <summary>PostgreSQL (<c>SELECT 1</c> through the app's <c>NpgsqlDataSource</c>), registered by this package.</summary>
    public const string PostgreSql = "postgresql";

    /// <summary>Hardening.Rls's live row-level-security lint.</summary>
    public const string RlsLint = "hardening-rls";

    /// <summary>Hardening.Auth's token replay store (on Redis: <c>PING</c> and the safety of its settings).</summary>
    public const string TokenReplayStore = "hardening-auth-replay-store";

    /// <summary>Hardening.Sse's event store and backplane (on Redis: <c>PING</c>, the subscriber connection and the safety of its settings).</summary>
    public const string SseStore = "hardening-sse-store";

    /// <summary>The checks whose store is Redis when the app configures it so: the ones the Redis-down alert reads.</summary>
    public static IReadOnlyList<string> RedisBacked { get; } = [TokenReplayStore, SseStore];
}
