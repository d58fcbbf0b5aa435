using System.ComponentModel.DataAnnotations;

namespace Hardening.Samples.Ats.Infrastructure;

/// <summary>Settings of the sample (section <c>Ats</c>), validated at start-up.</summary>
public sealed class AtsOptions
{
    /// <summary>The section name.</summary>
    public const string Section = "Ats";

    /// <summary>Browser origins allowed by CORS; <c>*</c> is refused outside Development.</summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>Largest résumé accepted.</summary>
    [Range(1, 100 * 1024 * 1024)]
    public int MaxResumeBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Résumés kept per candidate.</summary>
    [Range(1, 100)]
    public int MaxResumesPerCandidate { get; set; } = 5;

    /// <summary>Largest page of candidates.</summary>
    [Range(1, 500)]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Requests per minute of the per-user API limit.</summary>
    [Range(1, 1_000_000)]
    public int ApiRequestsPerMinute { get; set; } = 600;

    /// <summary>Attempts per minute of the anonymous auth endpoints (per client network).</summary>
    [Range(1, 1_000_000)]
    public int AuthRequestsPerMinute { get; set; } = 60;

    /// <summary>Outbox relay and résumé worker poll interval.</summary>
    public TimeSpan WorkerPollInterval { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Token settings (section <c>Auth</c>).</summary>
public sealed class AuthSettings
{
    /// <summary>The section name.</summary>
    public const string Section = "Auth";

    /// <summary>The key appsettings.Development.json ships: refused outside Development.</summary>
    public const string DevelopmentSigningKey = "development-only-signing-key-do-not-use-in-production-0123456789";

    /// <summary>The pepper appsettings.Development.json ships: refused outside Development.</summary>
    public const string DevelopmentPepper = "development-only-pepper-do-not-use-in-production";

    /// <summary>HMAC-SHA256 key for access and refresh tokens, at least 32 bytes.</summary>
    [Required]
    [MinLength(32)]
    public string SigningKey { get; set; } = "";

    /// <summary>Password pepper (Hardening.Auth), at least 16 bytes.</summary>
    [Required]
    [MinLength(16)]
    public string Pepper { get; set; } = "";

    /// <summary>bcrypt cost.</summary>
    [Range(4, 20)]
    public int PasswordCost { get; set; } = 12;

    /// <summary>Issuer of the tokens.</summary>
    public string Issuer { get; set; } = "https://ats.sample";

    /// <summary>Access token lifetime.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Refresh token lifetime.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Refuses the Development secrets (and missing ones) outside Development, naming the setting.
    /// </summary>
    /// <param name="environmentName">The host environment.</param>
    public void RefuseDevelopmentSecrets(string environmentName)
    {
        if (string.Equals(environmentName, "Development", StringComparison.Ordinal))
        {
            return;
        }

        if (string.Equals(SigningKey, DevelopmentSigningKey, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Auth:SigningKey is the Development signing key, which is public; set a secret of at least 32 random bytes for the {environmentName} environment.");
        }

        if (string.Equals(Pepper, DevelopmentPepper, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Auth:Pepper is the Development pepper, which is public; set a secret of at least 16 random bytes for the {environmentName} environment.");
        }
    }
}
