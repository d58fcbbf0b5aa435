namespace Hardening.Drills;

/// <summary>The environment of a sample instance in a drill: Development secrets, cheap bcrypt, rate limits out of the drill's way.</summary>
internal static class SampleEnvironment
{
    /// <summary>The settings every drill gives the sample, with its app connection string and Redis.</summary>
    public static Dictionary<string, string?> For(string postgres, string redis) => new(StringComparer.Ordinal)
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["ConnectionStrings__Postgres"] = postgres,
        ["ConnectionStrings__Redis"] = redis,
        ["Auth__PasswordCost"] = "4",
        ["Ats__AuthRequestsPerMinute"] = "1000000",
        ["Auth__LoginThrottle__Ip__Threshold"] = "1000000",
        ["Ats__ApiRequestsPerMinute"] = "1000000",
        ["Ats__WorkerPollInterval"] = "00:00:00.500",
        ["Ats__MaxResumeBytes"] = "200000",
        ["Logging__LogLevel__Default"] = "Warning",
        ["DOTNET_gcServer"] = "0",
    };
}
