using System.Diagnostics;
using Hardening.Samples.Ats.Accounts;
using Hardening.Samples.Ats.Candidates;
using Hardening.Samples.Ats.Infrastructure;
using Hardening.Samples.Ats.Live;
using Hardening.Samples.Ats.Operations;
using Hardening.Samples.Ats.Resumes;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Npgsql;
using Scalar.AspNetCore;
using StackExchange.Redis;
using PasswordHasher = Hardening.Auth.PasswordHasher;

// The sample ATS: the one composition root. Every package registration is here; the features (Accounts/,
// Candidates/, Resumes/, Live/, Operations/) only map their endpoints. `./build.sh sample` runs
// `dotnet Hardening.Samples.Ats.dll migrate` as the owner role first, then the host as the application role.
var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;
var environment = builder.Environment;

// ---- options, and the secrets and settings refused outside Development --------------------------------------------
builder.Services.AddOptions<AtsOptions>().Bind(config.GetSection(AtsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddOptions<AuthSettings>().Bind(config.GetSection(AuthSettings.Section)).ValidateDataAnnotations().ValidateOnStart();
var ats = config.GetSection(AtsOptions.Section).Get<AtsOptions>() ?? new AtsOptions();
var auth = config.GetSection(AuthSettings.Section).Get<AuthSettings>() ?? new AuthSettings();
auth.RefuseDevelopmentSecrets(environment.EnvironmentName);
if (!environment.IsDevelopment() && ats.CorsOrigins.Contains("*"))
{
    throw new InvalidOperationException($"Ats:CorsOrigins contains '*', which is refused in the {environment.EnvironmentName} environment; list the browser origins that may call the API.");
}

// ---- Hardening.Auth (passwords) and Hardening.Fsm: also what `migrate` needs ------------------------------------------
void AddPasswordsAndPipeline(IServiceCollection services)
{
    services.AddHardeningPasswordHasher(o =>
    {
        o.Pepper = auth.Pepper;
        o.PepperId = "sample";
        o.Cost = auth.PasswordCost;
    });
    services.AddHardeningStateMachine<CandidateEntity>(Pipeline.Name, c => c.Id.ToString(), Pipeline.Define);
}

AddPasswordsAndPipeline(builder.Services);
if (args is ["migrate", ..])
{
    var owner = config.GetConnectionString("Owner");
    if (string.IsNullOrWhiteSpace(owner))
    {
        throw new InvalidOperationException("ConnectionStrings:Owner is required by `migrate`: a connection string for the role that owns the tables.");
    }

    var migration = new ServiceCollection().AddLogging();
    AddPasswordsAndPipeline(migration);
#pragma warning disable ASP0000 // a separate, short-lived container for the one-shot `migrate` command, not the host's
    await using var services = migration.BuildServiceProvider();
#pragma warning restore ASP0000
    await Database.MigrateAsync(owner, services.GetRequiredService<Hardening.Fsm.StateMachine<CandidateEntity>>(), services.GetRequiredService<PasswordHasher>());
    Console.WriteLine("migrate: schema, row-level security, pipeline triggers and demo tenants are in place");
    return 0;
}

// ---- one NpgsqlDataSource (the application role) and one multiplexer ------------------------------------------------
var postgres = config.GetConnectionString("Postgres");
var redis = config.GetConnectionString("Redis");
if (string.IsNullOrWhiteSpace(postgres) || string.IsNullOrWhiteSpace(redis))
{
    throw new InvalidOperationException("ConnectionStrings:Postgres (the application role, e.g. Username=ats_app) and ConnectionStrings:Redis (host:port) are required.");
}

var pgSettings = new NpgsqlConnectionStringBuilder(postgres) { ApplicationName = "hardening-sample-ats" };
// Auto-prepare on unless the connection string decides: behind PgBouncer in transaction pooling (before 1.21) a
// statement prepared on one server connection is not there on the next, so such a deployment sets Max Auto Prepare=0.
if (!new System.Data.Common.DbConnectionStringBuilder { ConnectionString = postgres }.Keys.Cast<string>()
        .Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
{
    pgSettings.MaxAutoPrepare = 20;
    pgSettings.AutoPrepareMinUsages = 2;
}

builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(pgSettings.ConnectionString));
var redisSettings = ConfigurationOptions.Parse(redis);
redisSettings.ClientName = "hardening-sample-ats";
redisSettings.AbortOnConnectFail = false;              // start, and refuse (fail closed), while Redis is down
redisSettings.BacklogPolicy = BacklogPolicy.FailFast;  // fail at once while disconnected instead of queueing
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redisSettings));
builder.Services.AddSingleton(TimeProvider.System);

// ---- Hardening.Auth: tokens, replay guard, login throttle, rate limits ----------------------------------------------
builder.Services.AddSingleton<TokenIssuer>();
builder.Services.AddHardeningTokenReplayGuard(o => o.UseRedis = true);
builder.Services.AddHardeningLoginThrottle(o =>
{
    config.GetSection("Auth:LoginThrottle").Bind(o);   // e.g. Auth:LoginThrottle:Ip:Threshold
    o.UseRedis = true;
});
builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
    .AddJwtBearer(o =>
    {
        o.MapInboundClaims = false;
        o.Events = new JwtBearerEvents
        {
            // EventSource cannot send headers: the events endpoint alone also takes the token from the query.
            OnMessageReceived = c =>
            {
                if (c.Request.Path.StartsWithSegments("/api/events", StringComparison.Ordinal) && c.Request.Query["access_token"] is [{ } token])
                {
                    c.Token = token;
                }

                return Task.CompletedTask;
            },
        };
    })
    .AddJwtBearerHardening(JwtBearerDefaults.AuthenticationScheme);
builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
    .Configure<TokenIssuer>((o, tokens) => o.TokenValidationParameters = tokens.AccessValidation());
builder.Services.AddAuthorizationBuilder()
    .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
    .AddPolicy(OperationsApi.OperatorPolicy, p => p.RequireAuthenticatedUser().RequireClaim(TokenIssuer.RoleClaim, "operator"));
builder.Services.AddRateLimiter(o =>
{
    o.AddRedisGcraLimiter(RateLimits.Auth, p =>
    {
        p.PermitLimit = ats.AuthRequestsPerMinute;
        p.Window = TimeSpan.FromMinutes(1);
    });
    o.AddRedisGcraLimiter(RateLimits.Api, p =>
    {
        p.PermitLimit = ats.ApiRequestsPerMinute;
        p.Window = TimeSpan.FromMinutes(1);
        p.PartitionKey = http => http.User.FindFirst("sub")?.Value;
    });
});

// ---- Hardening.Rls, Hardening.Sse, Hardening.Observability ----------------------------------------------------------
builder.Services.AddHardeningRls(o =>
{
    o.TenantClaimType = TokenIssuer.TenantClaim;
    o.UserClaimType = "sub";
    o.RoleClaimType = TokenIssuer.RoleClaim;
    o.Lint.AppRole = Database.AppRole;
    o.Lint.Schemas.Add("public");
});
builder.Services.AddHardeningSse(o => o.UseRedis = true);
builder.Services.AddHardeningObservability(o =>
    {
        o.Prometheus.AuthorizationPolicy = OperationsApi.OperatorPolicy;
        o.Diagnostics.AuthorizationPolicy = OperationsApi.OperatorPolicy;
        o.Readiness.DetailPolicy = OperationsApi.OperatorPolicy;
        o.TenantUsage.Enabled = true;
    })
    .AddHardeningPostgreSqlCheck()
    .AddHardeningTokenReplayStoreCheck()
    .AddHardeningSseStoreCheck()
    .AddHardeningRlsLintCheck();

// ---- the sample's own services --------------------------------------------------------------------------------------
builder.Services.AddSingleton<OutboxSignal>();
builder.Services.AddHostedService<OutboxRelay>();
builder.Services.AddSingleton<ResumeSignal>();
builder.Services.AddHostedService<ResumeWorker>();

// ---- HTTP: problem details everywhere, headers, CORS, OpenAPI ---------------------------------------------------------
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = ats.MaxResumeBytes + 1024 * 1024);
builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
{
    // Never a stack trace, in any environment; always a message.
    c.ProblemDetails.Extensions.Remove("exception");
    c.ProblemDetails.Extensions["traceId"] = Activity.Current?.Id ?? c.HttpContext.TraceIdentifier;
    if (c.Exception is BadHttpRequestException bad)
    {
        c.ProblemDetails.Detail = bad.Message;
    }
    else if (DatabaseOutage.Is(c.Exception))
    {
        // PostgreSQL (or PgBouncer) is down or restarting: the client may retry; nothing was half-applied (one transaction).
        c.HttpContext.Response.Headers.RetryAfter = DatabaseOutage.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        c.ProblemDetails.Detail = "The database is unavailable; retry after the number of seconds in Retry-After.";
    }

    c.ProblemDetails.Detail ??= c.ProblemDetails.Status switch
    {
        StatusCodes.Status401Unauthorized => "Authentication is required: send a valid access token (POST /api/auth/login).",
        StatusCodes.Status403Forbidden => "You are not allowed to do this.",
        StatusCodes.Status404NotFound => "There is nothing at this address.",
        StatusCodes.Status405MethodNotAllowed => "This address does not accept this method.",
        StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
        StatusCodes.Status429TooManyRequests => "Too many requests; retry after the number of seconds in Retry-After.",
        >= 500 => "An unexpected error occurred; it was logged under the trace id.",
        _ => c.ProblemDetails.Title ?? "The request failed.",
    };
});
builder.Services.AddCors(o => o.AddDefaultPolicy(p => p.WithOrigins(ats.CorsOrigins).AllowAnyHeader().WithMethods("GET", "POST", "PATCH")));
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode
        : DatabaseOutage.Is(e) ? StatusCodes.Status503ServiceUnavailable
        : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();
var strict = new HeaderPolicyCollection()
    .AddDefaultSecurityHeaders()
    .AddContentSecurityPolicy(csp =>
    {
        csp.AddDefaultSrc().Self();
        csp.AddScriptSrc().Self();
        csp.AddStyleSrc().Self();
        csp.AddConnectSrc().Self();
        csp.AddImgSrc().Self().Data();
        csp.AddObjectSrc().None();
        csp.AddBaseUri().None();
        csp.AddFormAction().Self();
        csp.AddFrameAncestors().None();
    })
    .AddReferrerPolicyNoReferrer();
if (!environment.IsDevelopment())
{
    strict.AddStrictTransportSecurityMaxAgeIncludeSubDomains(maxAgeInSeconds: 60 * 60 * 24 * 365);
}

// The API reference page runs its own inline bootstrap script; it alone gets a looser policy.
var reference = new HeaderPolicyCollection().AddDefaultSecurityHeaders()
    .AddContentSecurityPolicy(csp =>
    {
        csp.AddDefaultSrc().Self();
        csp.AddScriptSrc().Self().UnsafeInline();
        csp.AddStyleSrc().Self().UnsafeInline();
        csp.AddFontSrc().Self().Data();
        csp.AddImgSrc().Self().Data();
        csp.AddFrameAncestors().None();
    });
app.UseWhen(c => c.Request.Path.StartsWithSegments("/scalar"), b => b.UseSecurityHeaders(reference));
app.UseWhen(c => !c.Request.Path.StartsWithSegments("/scalar"), b => b.UseSecurityHeaders(strict));
app.UseCors();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseHardeningRls();
app.UseAuthorization();
app.UseRateLimiter();

app.MapAccountsApi();
app.MapCandidatesApi();
app.MapResumesApi();
app.MapLiveApi();
app.MapOperationsApi();
app.MapOpenApi().AllowAnonymous();
app.MapScalarApiReference().AllowAnonymous();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the end-to-end tests.</summary>
public partial class Program;
