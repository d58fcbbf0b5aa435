using Hardening.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hardening.Auth;

/// <summary>
/// Wraps one scheme's <see cref="JwtBearerEvents"/>: classifies and logs every failure as a security event, counts it,
/// and (single-use schemes) consumes (iss, jti) after validation. The app's own handlers still run.
/// </summary>
internal sealed class JwtBearerHardeningSetup(string scheme, IServiceProvider services) : IPostConfigureOptions<JwtBearerOptions>
{
    public void PostConfigure(string? name, JwtBearerOptions options)
    {
        if (!string.Equals(name, scheme, StringComparison.Ordinal))
        {
            return;
        }

        if (options.EventsType is not null)
        {
            throw new InvalidOperationException(
                $"JwtBearer scheme '{scheme}' sets JwtBearerOptions.EventsType, which AddJwtBearerHardening cannot wrap. Set JwtBearerOptions.Events (an instance) instead.");
        }

        var hardening = services.GetRequiredService<IOptionsMonitor<JwtBearerHardeningOptions>>().Get(scheme);
        var metrics = services.GetRequiredService<AuthMetrics>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Hardening.Auth.Tokens.JwtBearer");
        TokenReplayGuard? guard = null;
        if (hardening.RequireSingleUse)
        {
            guard = services.GetService<TokenReplayGuard>() ?? throw new InvalidOperationException(
                $"JwtBearer scheme '{scheme}' requires single use, but no TokenReplayGuard is registered. Call services.AddHardeningTokenReplayGuard(...).");
            options.TokenValidationParameters.RequireExpirationTime = true;
        }

        var events = options.Events ??= new JwtBearerEvents();
        var appFailed = events.OnAuthenticationFailed;
        var appValidated = events.OnTokenValidated;

        events.OnAuthenticationFailed = context =>
        {
            var reason = TokenFailureClassifier.Classify(context.Exception);
            var (subject, jti) = UnverifiedIds(context.Request.Headers.Authorization.ToString());
            AuthLog.TokenRejected(logger, scheme, reason, Fingerprint.Of(subject), Fingerprint.Of(jti), context.Exception.GetType().Name);
            metrics.TokenRejected(reason);
            return appFailed(context);
        };

        events.OnTokenValidated = async context =>
        {
            if (guard is not null && !await ConsumeAsync(guard, context, logger, metrics).ConfigureAwait(false))
            {
                return;
            }

            await appValidated(context).ConfigureAwait(false);
        };
    }

    private async Task<bool> ConsumeAsync(TokenReplayGuard guard, TokenValidatedContext context, ILogger logger, AuthMetrics metrics)
    {
        var token = context.SecurityToken;
        var (jti, subject, issuedAt) = token switch
        {
            JsonWebToken j => (j.Id, j.Subject, j.IssuedAt),
            System.IdentityModel.Tokens.Jwt.JwtSecurityToken j => (j.Id, j.Subject, j.IssuedAt),
            _ => (null, null, DateTime.MinValue),
        };
        if (string.IsNullOrEmpty(jti) || token.ValidTo == DateTime.MinValue || issuedAt == DateTime.MinValue)
        {
            Exception missing = string.IsNullOrEmpty(jti) ? new MissingTokenIdException()
                : token.ValidTo == DateTime.MinValue ? new SecurityTokenNoExpirationException("A single-use token needs an 'exp' claim.")
                : new MissingIssuedAtException();
            Reject(context, logger, metrics, TokenRejectionReasons.MissingClaims, subject, jti, missing);
            return false;
        }

        TokenConsumeResult result;
        try
        {
            var expires = new DateTimeOffset(DateTime.SpecifyKind(token.ValidTo, DateTimeKind.Utc));
            var issued = new DateTimeOffset(DateTime.SpecifyKind(issuedAt, DateTimeKind.Utc));
            result = await guard.ConsumeQuietlyAsync(token.Issuer ?? "", jti, issued, expires, context.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            Reject(context, logger, metrics, TokenRejectionReasons.Malformed, subject, jti, new SecurityTokenMalformedException("The token's iss or jti is not valid text, or its iat is after its exp.", ex));
            return false;
        }

        if (result == TokenConsumeResult.Consumed)
        {
            return true;
        }

        var (reason, failure) = result switch
        {
            TokenConsumeResult.Replayed => (TokenRejectionReasons.Replayed, (Exception)new SecurityTokenReplayDetectedException("The token was already used.")),
            TokenConsumeResult.Expired => (TokenRejectionReasons.Expired, new SecurityTokenExpiredException("The single-use token is past its expiry plus clock skew.")),
            TokenConsumeResult.IssuedBeforeStoreLoss => (TokenRejectionReasons.IssuedBeforeStoreLoss, new SecurityTokenReplayDetectedException("The token was issued before the replay store last lost its memory; it cannot be proven unused.")),
            _ => (TokenRejectionReasons.StoreUnavailable, new SecurityTokenReplayAddFailedException("The replay store could not vouch for the token (fail closed).")),
        };
        Reject(context, logger, metrics, reason, subject, jti, failure);
        return false;
    }

    private void Reject(TokenValidatedContext context, ILogger logger, AuthMetrics metrics, string reason, string? subject, string? jti, Exception failure)
    {
        AuthLog.TokenRejected(logger, scheme, reason, Fingerprint.Of(subject), Fingerprint.Of(jti), failure.GetType().Name);
        metrics.TokenRejected(reason);
        context.Fail(failure);
    }

    /// <summary>Best effort: the unverified sub and jti of a bearer token, for correlating a rejection in the logs.</summary>
    private static (string? Subject, string? Jti) UnverifiedIds(string authorization)
    {
        const string Prefix = "Bearer ";
        if (!authorization.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return (null, null);
        }

        var raw = authorization[Prefix.Length..].Trim();
        if (raw.Length > 16 * 1024)
        {
            return (null, null);
        }

        try
        {
            var token = new JsonWebToken(raw);
            return (token.Subject, token.Id);
        }
        catch (ArgumentException)
        {
            return (null, null);
        }
        catch (SecurityTokenException)
        {
            return (null, null);
        }
    }
}
