using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hardening.Auth;

/// <summary>
/// An IdentityModel <see cref="ITokenReplayCache"/> backed by <see cref="TokenReplayGuard"/>, keyed by the token's
/// (iss, jti) rather than its string. Assign it to <see cref="TokenValidationParameters.TokenReplayCache"/> (with
/// <see cref="TokenValidationParameters.ValidateTokenReplay"/>) for handlers that validate tokens directly.
/// </summary>
/// <remarks>
/// IdentityModel calls this interface synchronously, so a Redis-backed guard blocks the calling thread for one round
/// trip; in ASP.NET Core prefer <c>AddJwtBearerHardening(o =&gt; o.RequireSingleUse = true)</c>, which consumes
/// asynchronously after validation. <see cref="TryFind"/> always answers false: the check and the insert happen
/// atomically in <see cref="TryAdd"/>, which throws <see cref="SecurityTokenReplayDetectedException"/> for a replay
/// and returns false when the store cannot vouch for the token.
/// </remarks>
public sealed class TokenReplayCache : ITokenReplayCache
{
    private readonly TokenReplayGuard _guard;

    /// <summary>Creates the cache over <paramref name="guard"/>.</summary>
    /// <param name="guard">The replay guard that records consumed token ids.</param>
    public TokenReplayCache(TokenReplayGuard guard)
    {
        ArgumentNullException.ThrowIfNull(guard);
        _guard = guard;
    }

    /// <summary>Consumes the token's (iss, jti).</summary>
    /// <param name="securityToken">The compact JWT.</param>
    /// <param name="expiresOn">The token's expiry (UTC).</param>
    /// <returns>True when consumed; false when the store could not vouch for it.</returns>
    /// <exception cref="SecurityTokenReplayDetectedException">The token was already used.</exception>
    /// <exception cref="SecurityTokenValidationException">The token is not a JWT or has no <c>jti</c> or <c>iat</c>.</exception>
    public bool TryAdd(string securityToken, DateTime expiresOn)
    {
        var (issuer, jti, issuedAt) = ReadIds(securityToken);
        var expires = new DateTimeOffset(DateTime.SpecifyKind(expiresOn, DateTimeKind.Utc));
        var task = _guard.ConsumeQuietlyAsync(issuer, jti, issuedAt, expires, CancellationToken.None);
        var result = task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
        return result switch
        {
            TokenConsumeResult.Consumed => true,
            TokenConsumeResult.Replayed => throw new SecurityTokenReplayDetectedException("The token was already used: its (iss, jti) has been consumed before."),
            _ => false,
        };
    }

    /// <summary>Always false; see the remarks.</summary>
    /// <param name="securityToken">Ignored.</param>
    /// <returns>False.</returns>
    public bool TryFind(string securityToken) => false;

    private static (string Issuer, string Jti, DateTimeOffset IssuedAt) ReadIds(string securityToken)
    {
        JsonWebToken token;
        try
        {
            token = new JsonWebToken(securityToken);
        }
        catch (ArgumentException ex)
        {
            throw new SecurityTokenMalformedException("The token given to the replay cache is not a compact JWT.", ex);
        }

        if (string.IsNullOrEmpty(token.Id))
        {
            throw new MissingTokenIdException();
        }

        if (token.IssuedAt == DateTime.MinValue)
        {
            throw new MissingIssuedAtException();
        }

        return (token.Issuer ?? "", token.Id, new DateTimeOffset(DateTime.SpecifyKind(token.IssuedAt, DateTimeKind.Utc)));
    }
}

/// <summary>A single-use token without an <c>iat</c> claim.</summary>
internal sealed class MissingIssuedAtException() : SecurityTokenValidationException("The token has no 'iat' claim; single-use tokens need an iat, so that tokens issued before the replay store lost its memory can be refused.");

/// <summary>A single-use token without a <c>jti</c> claim.</summary>
internal sealed class MissingTokenIdException() : SecurityTokenValidationException("The token has no 'jti' claim; single-use tokens need a unique jti (and an exp).");
