using System.Security.Claims;
using System.Text;
using Hardening.Samples.Ats.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hardening.Samples.Ats.Accounts;

/// <summary>The signed-in recruiter, as the tokens carry it.</summary>
internal sealed record Identity(Guid TenantId, Guid AccountId, string Email, string[] Roles);

/// <summary>A validated refresh token.</summary>
internal sealed record RefreshClaims(Guid TenantId, Guid AccountId, Guid FamilyId, string Jti, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Issues the short-lived access token (audience <see cref="AccessAudience"/>: tenant, user, roles, jti) and the
/// single-use refresh token (audience <see cref="RefreshAudience"/>, its family id), both HMAC-SHA256 signed.
/// </summary>
internal sealed class TokenIssuer(IOptions<AuthSettings> settings, TimeProvider time)
{
    public const string AccessAudience = "ats-api";
    public const string RefreshAudience = "ats-refresh";
    public const string TenantClaim = "tenant_id";
    public const string RoleClaim = "role";
    public const string FamilyClaim = "fam";

    private readonly AuthSettings _settings = settings.Value;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public SymmetricSecurityKey Key { get; } = new(Encoding.UTF8.GetBytes(settings.Value.SigningKey));

    public string Issuer => _settings.Issuer;

    /// <summary>Validation parameters of access tokens (JwtBearer).</summary>
    public TokenValidationParameters AccessValidation() => new()
    {
        ValidIssuer = _settings.Issuer,
        ValidAudience = AccessAudience,
        IssuerSigningKey = Key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = "sub",
        RoleClaimType = RoleClaim,
    };

    public object Issue(Identity who, Guid familyId)
    {
        var now = time.GetUtcNow();
        var access = Create(now, _settings.AccessTokenLifetime, AccessAudience, new Dictionary<string, object>
        {
            ["sub"] = who.AccountId.ToString(),
            [TenantClaim] = who.TenantId.ToString(),
            ["email"] = who.Email,
            [RoleClaim] = who.Roles,
            [FamilyClaim] = familyId.ToString(),
            ["jti"] = Guid.NewGuid().ToString("N"),
        });
        var refresh = Create(now, _settings.RefreshTokenLifetime, RefreshAudience, new Dictionary<string, object>
        {
            ["sub"] = who.AccountId.ToString(),
            [TenantClaim] = who.TenantId.ToString(),
            [FamilyClaim] = familyId.ToString(),
            ["jti"] = Guid.NewGuid().ToString("N"),
        });
        return new
        {
            accessToken = access,
            tokenType = "Bearer",
            expiresIn = (int)_settings.AccessTokenLifetime.TotalSeconds,
            refreshToken = refresh,
            tenantId = who.TenantId,
            accountId = who.AccountId,
        };
    }

    /// <summary>Validates a refresh token's signature, issuer, audience and lifetime; null when any fails.</summary>
    public async Task<RefreshClaims?> ValidateRefreshAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = _settings.Issuer,
            ValidAudience = RefreshAudience,
            IssuerSigningKey = Key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (nbf, exp, _, _) => exp is { } e && e > time.GetUtcNow().UtcDateTime,
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }

        return Guid.TryParse(jwt.Subject, out var account)
            && jwt.TryGetPayloadValue<string>(TenantClaim, out var t) && Guid.TryParse(t, out var tenant)
            && jwt.TryGetPayloadValue<string>(FamilyClaim, out var f) && Guid.TryParse(f, out var family)
            && !string.IsNullOrEmpty(jwt.Id)
            ? new RefreshClaims(tenant, account, family, jwt.Id, jwt.IssuedAt, jwt.ValidTo)
            : null;
    }

    private string Create(DateTimeOffset now, TimeSpan lifetime, string audience, Dictionary<string, object> claims) =>
        _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _settings.Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        });
}

/// <summary>Reads the caller from the validated access token; tenant and user never come from headers or query.</summary>
internal static class Caller
{
    public static Identity? From(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true
        && Guid.TryParse(user.FindFirst(TokenIssuer.TenantClaim)?.Value, out var tenant)
        && Guid.TryParse(user.FindFirst("sub")?.Value, out var account)
            ? new Identity(tenant, account, user.FindFirst("email")?.Value ?? "", [.. user.FindAll(TokenIssuer.RoleClaim).Select(c => c.Value)])
            : null;
}
