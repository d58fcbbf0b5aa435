namespace Hardening.Auth;

/// <summary>Options of <c>AddJwtBearerHardening</c> for one JwtBearer scheme.</summary>
public sealed class JwtBearerHardeningOptions
{
    /// <summary>
    /// When true, every token this scheme accepts is consumed through <see cref="TokenReplayGuard"/> keyed by
    /// (iss, jti): a second presentation is refused with 401, and tokens without <c>jti</c> or <c>exp</c> are refused.
    /// Default false. Turn it on for schemes that carry one-time tokens (refresh tokens, magic links, password-reset
    /// tokens, client assertions), not for ordinary access tokens, which are presented many times by design.
    /// </summary>
    public bool RequireSingleUse { get; set; }
}
