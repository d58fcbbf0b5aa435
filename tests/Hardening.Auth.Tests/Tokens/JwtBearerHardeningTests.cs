using System.Net;
using System.Security.Claims;
using Hardening.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hardening.Auth.Tests.Tokens;

public sealed class JwtBearerHardeningTests
{
    private const string Issuer = "https://issuer.test";
    private const string Audience = "ats-api";
    private static readonly SymmetricSecurityKey Key = new(System.Text.Encoding.UTF8.GetBytes("0123456789abcdef0123456789abcdef-test-key"));
    private static readonly SymmetricSecurityKey OtherKey = new(System.Text.Encoding.UTF8.GetBytes("fedcba9876543210fedcba9876543210-other-key"));

    [Fact]
    public async Task The_same_one_time_token_is_accepted_once_then_refused_with_a_replayed_event()
    {
        await using var host = await Host.StartAsync(singleUse: true);
        var token = CreateToken();

        var first = await host.GetAsync(token);
        var second = await host.GetAsync(token);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        var ev = Assert.Single(host.Logs.Events("TokenRejected"));
        Assert.Equal("replayed", ev.Value("Reason"));
        Assert.Equal(4101, ev.EventId.Id);
        Assert.DoesNotContain(token, string.Join("\n", host.Logs.Records.Select(r => r.Message)), StringComparison.Ordinal);
        Assert.Equal(1, host.Recorder.Sum("hardening.auth.token.rejected", "reason", "replayed"));
    }

    [Fact]
    public async Task An_expired_token_is_refused_with_an_expired_event()
    {
        await using var host = await Host.StartAsync(singleUse: true);
        var now = DateTime.UtcNow;
        var response = await host.GetAsync(CreateToken(notBefore: now.AddHours(-2), expires: now.AddHours(-1)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("expired", Assert.Single(host.Logs.Events("TokenRejected")).Value("Reason"));
        Assert.Equal(1, host.Recorder.Sum("hardening.auth.token.rejected", "reason", "expired"));
    }

    public static TheoryData<string, string> Failures => new()
    {
        { "not_yet_valid", "nbf" },
        { "bad_signature", "key" },
        { "bad_issuer", "iss" },
        { "bad_audience", "aud" },
        { "malformed", "garbage" },
        { "missing_claims", "jti" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Each_failure_is_classified_logged_and_counted(string reason, string defect)
    {
        await using var host = await Host.StartAsync(singleUse: true);
        var now = DateTime.UtcNow;
        var token = defect switch
        {
            "nbf" => CreateToken(notBefore: now.AddHours(1), expires: now.AddHours(2)),
            "key" => CreateToken(key: OtherKey),
            "iss" => CreateToken(issuer: "https://evil.test"),
            "aud" => CreateToken(audience: "someone-else"),
            "garbage" => "not.a.jwt",
            "jti" => CreateToken(jti: null),
            _ => throw new ArgumentOutOfRangeException(nameof(defect)),
        };

        var response = await host.GetAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(reason, Assert.Single(host.Logs.Events("TokenRejected")).Value("Reason"));
        Assert.Equal(1, host.Recorder.Sum("hardening.auth.token.rejected", "reason", reason));
    }

    [Fact]
    public async Task Without_single_use_an_access_token_may_be_presented_many_times()
    {
        await using var host = await Host.StartAsync(singleUse: false);
        var token = CreateToken(jti: null);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(token)).StatusCode);
    }

    [Fact]
    public async Task The_apps_own_event_handlers_still_run()
    {
        var validated = 0;
        var failed = 0;
        await using var host = await Host.StartAsync(singleUse: true, events: new()
        {
            OnTokenValidated = _ => { validated++; return Task.CompletedTask; },
            OnAuthenticationFailed = _ => { failed++; return Task.CompletedTask; },
        });
        var token = CreateToken();
        await host.GetAsync(token);
        await host.GetAsync(token);
        await host.GetAsync(CreateToken(issuer: "https://evil.test"));
        Assert.Equal(1, validated);
        Assert.Equal(1, failed);
    }

    [Fact]
    public async Task Token_replay_cache_consumes_by_issuer_and_jti_inside_identity_model()
    {
        using var kit = new AuthTestKit(DateTimeOffset.UtcNow);
        var guard = TokenReplayGuardTests.MemoryGuard(kit);
        var parameters = Parameters();
        parameters.ValidateTokenReplay = true;
        parameters.TokenReplayCache = new TokenReplayCache(guard);
        var handler = new JsonWebTokenHandler();
        var token = CreateToken();

        var first = await handler.ValidateTokenAsync(token, parameters);
        var second = await handler.ValidateTokenAsync(token, parameters);

        Assert.True(first.IsValid, first.Exception?.ToString());
        Assert.False(second.IsValid);
        Assert.IsType<SecurityTokenReplayDetectedException>(second.Exception);
    }

    internal static string CreateToken(string? jti = "generate", string issuer = Issuer, string audience = Audience, DateTime? notBefore = null, DateTime? expires = null, SecurityKey? key = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = "candidate-42" };
        if (jti is not null)
        {
            claims["jti"] = jti == "generate" ? Guid.NewGuid().ToString("N") : jti;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            NotBefore = notBefore ?? now.AddMinutes(-1),
            IssuedAt = notBefore ?? now,
            Expires = expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.HmacSha256),
        });
    }

    internal static TokenValidationParameters Parameters() => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKey = Key,
        ClockSkew = TimeSpan.FromMinutes(1),
    };

    private sealed class Host : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Host(WebApplication app, CollectingLoggerProvider logs)
        {
            _app = app;
            Logs = logs;
            Recorder = new MetricRecorder(AuthMeters.MeterName, app.Services.GetRequiredService<AuthMetrics>().Meter);
        }

        public CollectingLoggerProvider Logs { get; }

        public MetricRecorder Recorder { get; }

        public static async Task<Host> StartAsync(bool singleUse, Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerEvents? events = null)
        {
            var logs = new CollectingLoggerProvider();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders().AddProvider(logs);
            builder.Services.AddHardeningTokenReplayGuard();
            builder.Services.AddAuthentication()
                .AddJwtBearer(o =>
                {
                    o.TokenValidationParameters = Parameters();
                    o.MapInboundClaims = false;
                    if (events is not null)
                    {
                        o.Events = events;
                    }
                })
                .AddJwtBearerHardening(configure: o => o.RequireSingleUse = singleUse);
            builder.Services.AddAuthorization();
            var app = builder.Build();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapGet("/once", (ClaimsPrincipal user) => Results.Text("hello " + user.FindFirstValue("sub"))).RequireAuthorization();
            await app.StartAsync();
            return new Host(app, logs);
        }

        public async Task<HttpResponseMessage> GetAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/once");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return await _app.GetTestClient().SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            Recorder.Dispose();
            await _app.DisposeAsync();
        }
    }
}
