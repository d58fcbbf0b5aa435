using System.Security.Claims;
using System.Text;
using Hardening.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hardening.Samples.Ats;

/// <summary>
/// Single-use magic links for candidates (a one-time JWT consumed by (iss, jti) through the replay guard), token-failure
/// security events, and a throttled login check. Replay guard and throttle use Redis (env HARDENING_REDIS) when set.
/// </summary>
public static class TokensSample
{
    private const string Scheme = "magic-link";
    private const string Issuer = "https://ats.sample";
    private const string Audience = "ats-candidate-portal";

    /// <summary>Registers the replay guard, a hardened single-use JwtBearer scheme and the login throttle.</summary>
    public static WebApplicationBuilder AddTokensSample(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var redis = Environment.GetEnvironmentVariable("HARDENING_REDIS");
        var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(builder.Configuration["Auth:MagicLinkKey"] ?? "sample-only magic link key, set Auth:MagicLinkKey"));
        builder.Services.AddKeyedSingleton<SecurityKey>(Scheme, key);
        builder.Services.AddHardeningTokenReplayGuard(o => o.UseRedis = !string.IsNullOrWhiteSpace(redis));
        builder.Services.AddHealthChecks().AddHardeningTokenReplayStoreCheck();
        builder.Services.AddHardeningLoginThrottle(o => o.UseRedis = !string.IsNullOrWhiteSpace(redis));
        builder.Services.AddAuthentication()
            .AddJwtBearer(Scheme, o =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = Issuer,
                    ValidAudience = Audience,
                    IssuerSigningKey = key,
                    ClockSkew = TimeSpan.FromMinutes(1),
                };
            })
            .AddJwtBearerHardening(Scheme, o => o.RequireSingleUse = true);
        builder.Services.AddAuthorization();
        return builder;
    }

    /// <summary>Maps <c>POST /tokens/magic-link</c> (issue), <c>GET /tokens/redeem</c> (single use) and <c>POST /tokens/login-check</c>.</summary>
    public static WebApplication MapTokensSample(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseAuthorization();
        var key = app.Services.GetRequiredKeyedService<SecurityKey>(Scheme);

        app.MapPost("/tokens/magic-link", (MagicLinkRequest body) =>
        {
            if (string.IsNullOrWhiteSpace(body.CandidateId))
            {
                return Results.Problem("candidateId is required.", statusCode: StatusCodes.Status400BadRequest);
            }

            var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = Issuer,
                Audience = Audience,
                Claims = new Dictionary<string, object> { ["sub"] = body.CandidateId, ["jti"] = Guid.NewGuid().ToString("N") },
                Expires = DateTime.UtcNow.AddMinutes(15),
                SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
            });
            return Results.Ok(new { token });
        });

        app.MapGet("/tokens/redeem", (ClaimsPrincipal user) => Results.Ok(new { candidate = user.FindFirstValue("sub"), message = "Link redeemed; a second use is refused with 401." }))
            .RequireAuthorization(p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());

        app.MapPost("/tokens/login-check", async (LoginCheckRequest body, HttpContext http, LoginThrottle throttle) =>
        {
            var decision = await throttle.AcquireAsync(body.Email ?? "", http.Connection.RemoteIpAddress, http.RequestAborted);
            if (!decision.IsAllowed)
            {
                http.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Problem("Too many login attempts; try again later.", statusCode: StatusCodes.Status429TooManyRequests);
            }

            return Results.Ok(new { allowed = true });
        });
        return app;
    }

    private sealed record MagicLinkRequest(string? CandidateId);

    private sealed record LoginCheckRequest(string? Email);
}
