using System.Net;
using System.Security.Claims;
using Hardening.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// Each way a single-use scheme refuses a token that passed validation (reason, failure type, log fingerprints), the
/// set-up errors, and the failure classifier's table. Fingerprints are the first 8 bytes of SHA-256, hex, computed
/// with Python's hashlib: <c>hashlib.sha256(b"candidate-42").hexdigest()[:16]</c>.
/// </summary>
public sealed class JwtBearerHardeningRejectionTests
{
    private const string SubjectHash = "882a97fe7985a8c9"; // "candidate-42"
    private const string JtiHash = "7e87408cf6c05a31"; // "jti-fixed-1"

    private static string Token(DateTime? issuedAt, DateTime? expires, DateTime? notBefore = null, string? jti = "jti-fixed-1", SecurityKey? key = null, string padding = "", bool extra = false)
    {
        var claims = new Dictionary<string, object> { ["sub"] = "candidate-42" };
        if (jti is not null)
        {
            claims["jti"] = jti;
        }

        if (padding.Length > 0)
        {
            claims["pad"] = padding;
        }

        if (extra)
        {
            claims["q"] = "";
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "https://issuer.test",
            Audience = "ats-api",
            Claims = claims,
            NotBefore = notBefore ?? DateTime.UtcNow.AddHours(-2),
            SigningCredentials = new SigningCredentials(key ?? new SymmetricSecurityKey("0123456789abcdef0123456789abcdef-test-key"u8.ToArray()), SecurityAlgorithms.HmacSha256),
        };
        if (issuedAt is { } iat)
        {
            descriptor.IssuedAt = iat;
        }

        if (expires is { } exp)
        {
            descriptor.Expires = exp;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public static TheoryData<string, string, string, string> Refusals => new()
    {
        // case, reason, failure type, failure message (what the app's OnChallenge sees)
        { "no jti", "missing_claims", "MissingTokenIdException", "The token has no 'jti' claim; single-use tokens need a unique jti (and an exp)." },
        { "no iat", "missing_claims", "MissingIssuedAtException", "The token has no 'iat' claim; single-use tokens need an iat, so that tokens issued before the replay store lost its memory can be refused." },
        { "iat after exp", "malformed", "SecurityTokenMalformedException", "The token's iss or jti is not valid text, or its iat is after its exp." },
        { "issued before the store's memory", "issued_before_store_loss", "SecurityTokenReplayDetectedException", "The token was issued before the replay store last lost its memory; it cannot be proven unused." },
        { "past exp plus the guard's skew", "expired", "SecurityTokenExpiredException", "The single-use token is past its expiry plus clock skew." },
        { "store full", "store_unavailable", "SecurityTokenReplayAddFailedException", "The replay store could not vouch for the token (fail closed)." },
        { "replayed", "replayed", "SecurityTokenReplayDetectedException", "The token was already used." },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_validated_token_the_guard_refuses_is_a_401_with_its_reason_failure_and_fingerprints(string @case, string reason, string failure, string message)
    {
        var appValidated = 0;
        var appFailed = 0;
        Exception? challenged = null;
        var events = new JwtBearerEvents
        {
            OnTokenValidated = _ => { appValidated++; return Task.CompletedTask; },
            OnAuthenticationFailed = _ => { appFailed++; return Task.CompletedTask; },
            OnChallenge = c => { challenged = c.AuthenticateFailure; return Task.CompletedTask; },
        };
        await using var host = await Host.StartAsync(events, guard: o => { o.ClockSkew = TimeSpan.Zero; o.MaxInMemoryEntries = 1; });
        var now = DateTime.UtcNow;
        var token = @case switch
        {
            "no jti" => Token(issuedAt: now.AddSeconds(5), expires: now.AddMinutes(10), jti: null),
            "no iat" => Token(issuedAt: null, expires: now.AddMinutes(10)),
            "iat after exp" => Token(issuedAt: now.AddMinutes(20), expires: now.AddMinutes(10)),
            "issued before the store's memory" => Token(issuedAt: now.AddHours(-1), expires: now.AddMinutes(10)),
            "past exp plus the guard's skew" => Token(issuedAt: now.AddSeconds(-90), expires: now.AddSeconds(-30)), // validation allows 1 minute
            _ => Token(issuedAt: now.AddSeconds(5), expires: now.AddMinutes(10)),
        };
        if (@case == "store full")
        {
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(Token(now.AddSeconds(5), now.AddMinutes(10), jti: "fills-the-store"))).StatusCode);
        }
        else if (@case == "replayed")
        {
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(token)).StatusCode);
        }

        var response = await host.GetAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var ev = Assert.Single(host.Logs.Events("TokenRejected"));
        Assert.Equal(reason, ev.GetStructuredStateValue("Reason"));
        Assert.Equal(failure, ev.GetStructuredStateValue("FailureType"));
        Assert.Equal("Bearer", ev.GetStructuredStateValue("Scheme"));
        Assert.Equal(SubjectHash, ev.GetStructuredStateValue("SubjectHash"));
        Assert.Equal(@case == "no jti" ? "-" : JtiHash, ev.GetStructuredStateValue("JtiHash"));
        Assert.Equal(1, host.Rejected(reason));
        Assert.Equal(@case is "store full" or "replayed" ? 1 : 0, appValidated); // the app's handler runs only for accepted tokens
        Assert.Equal(0, appFailed);
        Assert.Equal("Hardening.Auth.Tokens.JwtBearer", ev.Category);
        Assert.Equal(failure, challenged?.GetType().Name);
        Assert.Equal(message, challenged!.Message);
    }

    [Fact]
    public async Task A_token_of_exactly_16_KiB_is_still_fingerprinted()
    {
        await using var host = await Host.StartAsync();
        var other = new SymmetricSecurityKey("fedcba9876543210fedcba9876543210-other-key"u8.ToArray());
        var now = DateTime.UtcNow;
        var token = (from n in Enumerable.Range(11_900, 300) from extra in new[] { false, true } select (n, extra))
            .Select(p => Token(now, now.AddMinutes(10), key: other, padding: new string('p', p.n), extra: p.extra))
            .First(t => t.Length == 16 * 1024); // base64 skips one length in four: the extra claim shifts the pattern
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.GetAsync(token)).StatusCode);
        var ev = Assert.Single(host.Logs.Events("TokenRejected"));
        Assert.Equal(SubjectHash, ev.GetStructuredStateValue("SubjectHash"));
        Assert.Equal(JtiHash, ev.GetStructuredStateValue("JtiHash"));
    }

    [Fact]
    public async Task A_token_that_did_not_come_in_a_bearer_header_is_logged_without_fingerprints()
    {
        // The app reads the token from elsewhere (here a query parameter); the Authorization header is empty.
        var events = new JwtBearerEvents { OnMessageReceived = c => { c.Token = c.Request.Query["t"]; return Task.CompletedTask; } };
        await using var host = await Host.StartAsync(events);
        var other = new SymmetricSecurityKey("fedcba9876543210fedcba9876543210-other-key"u8.ToArray());
        var token = Token(DateTime.UtcNow, DateTime.UtcNow.AddMinutes(10), key: other);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetAsync(new Uri("/once?t=" + token, UriKind.Relative))).StatusCode);
        var ev = Assert.Single(host.Logs.Events("TokenRejected"));
        Assert.Equal("bad_signature", ev.GetStructuredStateValue("Reason"));
        Assert.Equal("-", ev.GetStructuredStateValue("SubjectHash"));
        Assert.Equal("-", ev.GetStructuredStateValue("JtiHash"));
    }

    [Fact]
    public async Task A_validated_token_the_guard_accepts_reaches_the_apps_handler_and_the_endpoint()
    {
        var appValidated = 0;
        await using var host = await Host.StartAsync(new JwtBearerEvents { OnTokenValidated = _ => { appValidated++; return Task.CompletedTask; } });
        var response = await host.GetAsync(Token(DateTime.UtcNow.AddSeconds(5), DateTime.UtcNow.AddMinutes(10)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello candidate-42", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, appValidated);
        Assert.Empty(host.Logs.Events("TokenRejected"));
    }

    [Fact]
    public async Task A_single_use_scheme_requires_exp_even_when_the_app_turned_that_off()
    {
        var appFailed = 0;
        await using var host = await Host.StartAsync(
            new JwtBearerEvents { OnAuthenticationFailed = _ => { appFailed++; return Task.CompletedTask; } },
            parameters: p => p.RequireExpirationTime = false);
        Assert.True(host.Options.TokenValidationParameters.RequireExpirationTime);

        var response = await host.GetAsync(Token(DateTime.UtcNow.AddSeconds(5), expires: null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var ev = Assert.Single(host.Logs.Events("TokenRejected"));
        Assert.Equal("missing_claims", ev.GetStructuredStateValue("Reason"));
        Assert.Equal("SecurityTokenNoExpirationException", ev.GetStructuredStateValue("FailureType"));
        Assert.Equal(1, appFailed); // refused by validation, so the app's failure handler saw it
    }

    [Fact]
    public async Task Without_single_use_the_apps_expiry_setting_is_left_alone()
    {
        await using var host = await Host.StartAsync(parameters: p => p.RequireExpirationTime = false, singleUse: false);
        Assert.False(host.Options.TokenValidationParameters.RequireExpirationTime);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(Token(DateTime.UtcNow, expires: null, jti: null))).StatusCode);
    }

    public static TheoryData<string, string, string> UnverifiedIds => new()
    {
        // header form, expected subject hash, expected jti hash
        { "Bearer", SubjectHash, JtiHash },
        { "bearer", SubjectHash, JtiHash },
        { "Bearer-padded", SubjectHash, JtiHash },
        { "Bearer-oversized", "-", "-" },
        { "Bearer-not-a-jwt", "-", "-" },
        { "Bearer-bad-base64", "-", "-" },
    };

    [Theory]
    [MemberData(nameof(UnverifiedIds))]
    public async Task A_rejected_tokens_log_line_carries_fingerprints_of_its_unverified_sub_and_jti(string form, string subject, string jti)
    {
        await using var host = await Host.StartAsync();
        var other = new SymmetricSecurityKey("fedcba9876543210fedcba9876543210-other-key"u8.ToArray());
        var now = DateTime.UtcNow;
        var header = form switch
        {
            "Bearer" => "Bearer " + Token(now, now.AddMinutes(10), key: other),
            "bearer" => "bearer " + Token(now, now.AddMinutes(10), key: other),
            "Bearer-padded" => "Bearer " + Token(now, now.AddMinutes(10), key: other, padding: new string('p', 11_000)),
            "Bearer-oversized" => "Bearer " + Token(now, now.AddMinutes(10), key: other, padding: new string('p', 13_000)),
            "Bearer-not-a-jwt" => "Bearer not-a-jwt",
            _ => "Bearer eyJhbGciOiJIUzI1NiJ9.!!!.c2ln",
        };
        if (form.StartsWith("Bearer-padded", StringComparison.Ordinal))
        {
            Assert.InRange(header.Length - 7, 14_000, 16 * 1024); // under the 16 KiB limit of the fingerprinting
        }
        else if (form == "Bearer-oversized")
        {
            Assert.InRange(header.Length - 7, (16 * 1024) + 1, 20_000);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/once");
        request.Headers.TryAddWithoutValidation("Authorization", header);
        var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var ev = Assert.Single(host.Logs.Events("TokenRejected"));
        Assert.Equal(subject, ev.GetStructuredStateValue("SubjectHash"));
        Assert.Equal(jti, ev.GetStructuredStateValue("JtiHash"));
    }

    [Fact]
    public async Task Events_type_cannot_be_wrapped_and_says_what_to_set_instead()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await Host.StartAsync(jwt: o => o.EventsType = typeof(JwtBearerEvents));
        });
        Assert.Equal("JwtBearer scheme 'Bearer' sets JwtBearerOptions.EventsType, which AddJwtBearerHardening cannot wrap. Set JwtBearerOptions.Events (an instance) instead.", ex.Message);
    }

    [Fact]
    public async Task Single_use_without_a_replay_guard_fails_at_start_and_names_the_registration()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await Host.StartAsync(registerGuard: false);
        });
        Assert.Equal("JwtBearer scheme 'Bearer' requires single use, but no TokenReplayGuard is registered. Call services.AddHardeningTokenReplayGuard(...).", ex.Message);
    }

    [Fact]
    public async Task Only_the_named_scheme_is_wrapped()
    {
        await using var host = await Host.StartAsync(otherScheme: true);
        var token = Token(DateTime.UtcNow.AddSeconds(5), DateTime.UtcNow.AddMinutes(10));
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(token, "/other")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(token, "/other")).StatusCode); // "Other" is not single-use

        // (the default scheme, Bearer, also ran on those requests and consumed the token there)
        var fresh = Token(DateTime.UtcNow.AddSeconds(5), DateTime.UtcNow.AddMinutes(10), jti: "jti-fresh");
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(fresh)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.GetAsync(fresh)).StatusCode);
    }

    public static TheoryData<string, string> Classification => new()
    {
        { "null", "malformed" },
        { "aggregate of expired", "expired" },
        { "empty aggregate", "malformed" },
        { "expired", "expired" },
        { "not yet valid", "not_yet_valid" },
        { "no expiration", "missing_claims" },
        { "no jti", "missing_claims" },
        { "no iat", "missing_claims" },
        { "invalid signature", "bad_signature" },
        { "signature key not found", "bad_signature" },
        { "invalid algorithm", "bad_signature" },
        { "decryption failed", "bad_signature" },
        { "invalid signing key", "bad_signature" },
        { "invalid issuer", "bad_issuer" },
        { "invalid audience", "bad_audience" },
        { "replay detected", "replayed" },
        { "replay add failed", "store_unavailable" },
        { "malformed", "malformed" },
        { "other", "malformed" },
    };

    [Theory]
    [MemberData(nameof(Classification))]
    public void Failures_are_classified_by_the_agreed_reason_table(string failure, string reason)
    {
        Exception? exception = failure switch
        {
            "null" => null,
            "aggregate of expired" => new AggregateException(new SecurityTokenExpiredException("x"), new SecurityTokenInvalidIssuerException("y")),
            "empty aggregate" => new AggregateException(),
            "expired" => new SecurityTokenExpiredException("x"),
            "not yet valid" => new SecurityTokenNotYetValidException("x"),
            "no expiration" => new SecurityTokenNoExpirationException("x"),
            "no jti" => new MissingTokenIdException(),
            "no iat" => new MissingIssuedAtException(),
            "invalid signature" => new SecurityTokenInvalidSignatureException("x"),
            "signature key not found" => new SecurityTokenSignatureKeyNotFoundException("x"),
            "invalid algorithm" => new SecurityTokenInvalidAlgorithmException("x"),
            "decryption failed" => new SecurityTokenDecryptionFailedException("x"),
            "invalid signing key" => new SecurityTokenInvalidSigningKeyException("x"),
            "invalid issuer" => new SecurityTokenInvalidIssuerException("x"),
            "invalid audience" => new SecurityTokenInvalidAudienceException("x"),
            "replay detected" => new SecurityTokenReplayDetectedException("x"),
            "replay add failed" => new SecurityTokenReplayAddFailedException("x"),
            "malformed" => new SecurityTokenMalformedException("x"),
            _ => new InvalidOperationException("x"),
        };
        Assert.Equal(reason, TokenFailureClassifier.Classify(exception));
    }

    private sealed class Host : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Host(WebApplication app, FakeLogCollector logs)
        {
            _app = app;
            Logs = logs;
            Client = app.GetTestClient();
            _rejected = new(app.Services.GetRequiredService<AuthMetrics>().Meter, "hardening.auth.token.rejected");
        }

        private readonly Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long> _rejected;

        public FakeLogCollector Logs { get; }

        public HttpClient Client { get; }

        public JwtBearerOptions Options => _app.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);

        public long Rejected(string reason) => _rejected.GetMeasurementSnapshot().Where(m => Equals(m.Tags["reason"], reason)).Sum(m => m.Value);

        public static async Task<Host> StartAsync(
            JwtBearerEvents? events = null,
            Action<TokenReplayGuardOptions>? guard = null,
            Action<TokenValidationParameters>? parameters = null,
            Action<JwtBearerOptions>? jwt = null,
            bool singleUse = true,
            bool registerGuard = true,
            bool otherScheme = false)
        {
            var logs = new FakeLogCollector();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(logs));
            if (registerGuard)
            {
                builder.Services.AddHardeningTokenReplayGuard(guard);
            }

            void Configure(JwtBearerOptions o)
            {
                o.TokenValidationParameters = JwtBearerHardeningTests.Parameters();
                parameters?.Invoke(o.TokenValidationParameters);
                o.MapInboundClaims = false;
                if (events is not null)
                {
                    o.Events = events;
                }

                jwt?.Invoke(o);
            }

            var auth = builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(Configure);
            if (otherScheme)
            {
                auth.AddJwtBearer("Other", o =>
                {
                    o.TokenValidationParameters = JwtBearerHardeningTests.Parameters();
                    o.MapInboundClaims = false;
                });
            }

            auth.AddJwtBearerHardening(configure: o => o.RequireSingleUse = singleUse);
            builder.Services.AddAuthorization();
            var app = builder.Build();
            try
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapGet("/once", (ClaimsPrincipal user) => Results.Text("hello " + user.FindFirstValue("sub"))).RequireAuthorization();
                app.MapGet("/other", (ClaimsPrincipal user) => Results.Text("other " + user.FindFirstValue("sub")))
                    .RequireAuthorization(p => p.AddAuthenticationSchemes("Other").RequireAuthenticatedUser());
                await app.StartAsync();
                var host = new Host(app, logs);
                _ = host.Options; // post-configures the scheme now, as the first request would
                return host;
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }

        public async Task<HttpResponseMessage> GetAsync(string token, string path = "/once")
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return await Client.SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            _rejected.Dispose();
            Client.Dispose();
            await _app.DisposeAsync();
        }
    }
}
